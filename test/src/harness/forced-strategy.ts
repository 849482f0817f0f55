/**
 * The strategy `COHORT_STRATEGY=copy|unnest` forces on every cohort call of the suite; undefined
 * when the variable is unset or empty (CI sets it empty for the default runs).
 */
export const forcedStrategy: 'copy' | 'unnest' | undefined = (() => {
  const value = process.env.COHORT_STRATEGY;
  if (!value) return undefined;
  if (value !== 'copy' && value !== 'unnest') throw new Error(`COHORT_STRATEGY must be copy or unnest, not ${value}`);
  return value;
})();
