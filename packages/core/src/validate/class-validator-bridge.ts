import type { ValidationFailure } from '../errors/bulk-write-error.js';

interface ClassValidatorError {
  property: string;
  value: unknown;
  constraints?: Record<string, string>;
  children?: ClassValidatorError[];
}
interface ClassValidatorModule {
  validate(object: object, options?: object): Promise<ClassValidatorError[]>;
  getMetadataStorage(): {
    getTargetValidationMetadatas(target: Function, schema: string, always: boolean, strictGroups: boolean): unknown[];
  };
}

let loaded: Promise<ClassValidatorModule | null> | undefined;

// class-validator is optional: load it lazily and only if the application installed it.
function loadClassValidator(): Promise<ClassValidatorModule | null> {
  const specifier = 'class-validator';
  loaded ??= (import(specifier) as Promise<unknown>).then(
    (m) => ((m as unknown as { default?: ClassValidatorModule }).default ?? m) as ClassValidatorModule,
    () => null,
  );
  return loaded;
}

/**
 * Runs class-validator's decorators of each entity that carries any. Returns the failures, with
 * indices counted from `firstIndex`.
 */
export async function classValidatorFailures<E>(
  entities: readonly E[],
  indices: readonly number[],
): Promise<ValidationFailure<E>[]> {
  const first = entities[0] as object | undefined;
  if (!first) return [];
  const cv = await loadClassValidator();
  if (!cv) return [];
  // Which classes carry decorators is looked up once per class, before any promise is made: rows of
  // classes without any (the common case) cost a map look-up, not a validate() call each.
  const decorated = new Map<Function, boolean>();
  const checked: number[] = [];
  entities.forEach((entity, position) => {
    const ctor = (entity as object).constructor;
    let has = decorated.get(ctor);
    if (has === undefined) {
      has = cv.getMetadataStorage().getTargetValidationMetadatas(ctor, '', true, false).length > 0;
      decorated.set(ctor, has);
    }
    if (has) checked.push(position);
  });
  if (checked.length === 0) return [];
  const failures: ValidationFailure<E>[] = [];
  await Promise.all(
    checked.map(async (position) => {
      const entity = entities[position] as E;
      const errors = await cv.validate(entity as object, { forbidUnknownValues: false });
      for (const f of flatten(errors, '')) failures.push({ index: indices[position] as number, entity, ...f });
    }),
  );
  return failures.sort((a, b) => a.index - b.index);
}

function flatten(errors: ClassValidatorError[], prefix: string) {
  const out: { property: string; value: unknown; constraint: string; message: string }[] = [];
  for (const e of errors) {
    const property = prefix ? `${prefix}.${e.property}` : e.property;
    for (const [constraint, message] of Object.entries(e.constraints ?? {})) {
      out.push({ property, value: e.value, constraint, message });
    }
    if (e.children?.length) out.push(...flatten(e.children, property));
  }
  return out;
}
