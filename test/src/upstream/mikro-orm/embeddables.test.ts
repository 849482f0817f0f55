// Scenarios from MikroORM's tests of embeddables (tests/features/embeddables): inline embeddables
// with and without a prefix, object (JSON) embeddables, arrays of embeddables, nullable and nested
// ones. Each runs once with persist()+flush() (or em.upsert) and once with cohort's bulk call.
import { Embeddable, Embedded, Entity, Enum, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { it } from 'vitest';
import { journal, mikroOrmPair } from '../../harness/upstream-pair.js';
import { managed, upsert, WriteRecorder, write } from './writes.js';

@Embeddable()
class UmbAddress {
  @Property({ type: 'string', nullable: true }) street?: string | null;
  @Property({ type: 'double', nullable: true }) number?: number | null;
  @Property({ type: 'string', nullable: true }) postalCode?: string | null;
  @Property({ type: 'string', nullable: true }) city?: string | null;
  @Property({ type: 'string', nullable: true }) country?: string | null;

  constructor(street?: string, number?: number, postalCode?: string, city?: string, country?: string) {
    this.street = street;
    this.number = number;
    this.postalCode = postalCode;
    this.city = city;
    this.country = country;
  }
}

@Embeddable()
class UmbStrictAddress {
  @Property({ type: 'string' }) street!: string;
  @Property({ type: 'string', nullable: true }) postalCode?: string | null;
  @Property({ type: 'string' }) city!: string;
  @Property({ type: 'string' }) country!: string;
}

@Entity({ tableName: 'umb_emb_user' })
class UmbEmbUser {
  @PrimaryKey() id!: number;
  @Property({ type: 'string', unique: true }) email!: string;
  @Embedded(() => UmbAddress) address1!: UmbAddress;
  @Embedded(() => UmbStrictAddress, { prefix: 'addr_', nullable: true }) address2?: UmbStrictAddress | null;
  @Embedded(() => UmbAddress, { prefix: false }) address3: UmbAddress = new UmbAddress();
  @Embedded(() => UmbAddress, { object: true }) address4: UmbAddress = new UmbAddress();
  @Embedded(() => UmbAddress, { array: true, nullable: true }) addresses: UmbAddress[] | null = [];
  @Property({ type: 'integer', nullable: true }) after?: number | null;
}

// nested-embeddables.postgres: an embeddable inside an embeddable, inline and as JSON.
@Embeddable()
class UmbIdentityMeta {
  @Property({ type: 'string', nullable: true }) foo?: string | null;
  @Property({ type: 'string', nullable: true }) bar?: string | null;
  constructor(foo?: string, bar?: string) {
    this.foo = foo;
    this.bar = bar;
  }
}

@Embeddable()
class UmbIdentityLink {
  @Property({ type: 'string', nullable: true }) url?: string | null;
  @Embedded(() => UmbIdentityMeta, { nullable: true }) meta?: UmbIdentityMeta | null;
  @Embedded(() => UmbIdentityMeta, { array: true }) metas: UmbIdentityMeta[] = [];
  constructor(url: string) {
    this.url = url;
    this.meta = new UmbIdentityMeta('f1', 'b1');
    this.metas.push(new UmbIdentityMeta('f2', 'b2'), new UmbIdentityMeta('f3', 'b3'));
  }
}

@Embeddable()
class UmbIdentity {
  @Property({ type: 'string' }) email: string;
  @Embedded(() => UmbIdentityMeta, { nullable: true }) meta?: UmbIdentityMeta | null;
  @Embedded(() => UmbIdentityLink, { array: true }) links: UmbIdentityLink[] = [];
  constructor(email: string, meta?: UmbIdentityMeta) {
    this.email = email;
    this.meta = meta;
  }
}

@Embeddable()
class UmbProfile {
  @Property({ type: 'string' }) username: string;
  @Embedded(() => UmbIdentity) identity: UmbIdentity;
  constructor(username: string, identity: UmbIdentity) {
    this.username = username;
    this.identity = identity;
  }
}

@Entity({ tableName: 'umb_emb_member' })
class UmbEmbMember {
  @PrimaryKey() id!: number;
  @Property({ type: 'string', unique: true }) name!: string;
  @Embedded(() => UmbProfile) profile1!: UmbProfile;
  @Embedded(() => UmbProfile, { object: true }) profile2!: UmbProfile;
}

// GH2149: an object embeddable holding an object embeddable, both with property initializers.
@Embeddable()
class UmbLoopOptions {
  @Property({ type: 'boolean' }) enabled = false;
  @Property({ type: 'string' }) kind = 'a';
}

@Embeddable()
class UmbPlayerOptions {
  @Embedded(() => UmbLoopOptions, { object: true }) loop = new UmbLoopOptions();
}

@Entity({ tableName: 'umb_emb_player' })
class UmbEmbPlayer {
  @PrimaryKey() id!: number;
  @Embedded(() => UmbPlayerOptions, { object: true }) options = new UmbPlayerOptions();
}

// embedded-enum-check-constraints.postgres: an enum inside an embeddable gets a check constraint.
enum UmbAnimal {
  Cat = 'cat',
  Dog = 'dog',
}

@Embeddable()
class UmbPet {
  @Enum({ items: () => UmbAnimal }) kind!: UmbAnimal;
  @Property({ type: 'string' }) name!: string;
}

@Entity({ tableName: 'umb_emb_owner' })
class UmbEmbOwner {
  @PrimaryKey() id!: number;
  @Embedded(() => UmbPet) pet!: UmbPet;
  @Embedded(() => UmbPet, { object: true, nullable: true }) spare?: UmbPet | null;
}

// embeddable-custom-types.postgres: dates, bigints and JSON inside inline and object embeddables.
@Embeddable()
class UmbStamp {
  @Property({ type: 'datetime', nullable: true }) at?: Date | null;
  @Property({ type: 'bigint', nullable: true }) counter?: bigint | null;
  @Property({ type: 'json', nullable: true }) extra?: { tags: string[] } | null;
}

@Entity({ tableName: 'umb_emb_stamped' })
class UmbEmbStamped {
  @PrimaryKey() id!: number;
  @Embedded(() => UmbStamp) inline!: UmbStamp;
  @Embedded(() => UmbStamp, { object: true }) object!: UmbStamp;
  @Embedded(() => UmbStamp, { array: true }) many: UmbStamp[] = [];
}

const pair = mikroOrmPair('umb_emb', {
  entities: [UmbEmbUser, UmbEmbMember, UmbEmbPlayer, UmbEmbOwner, UmbEmbStamped],
  subscribers: [new WriteRecorder()],
});

const fullUser = (email: string): UmbEmbUser =>
  Object.assign(new UmbEmbUser(), {
    email,
    address1: new UmbAddress('Downing street 10', 10, '123', 'London 1', 'UK 1'),
    address2: Object.assign(new UmbStrictAddress(), { street: 'Downing street 11', city: 'London 2', country: 'UK 2' }),
    address3: new UmbAddress('Downing street 12', 10, '789', 'London 3', 'UK 3'),
    address4: new UmbAddress('Downing street 13', 10, '10', 'London 4', 'UK 4'),
    addresses: [
      new UmbAddress('Downing street 13A', 10, '10A', 'London 4A', 'UK 4A'),
      new UmbAddress('Downing street 13B', 10, '10B', 'London 4B', 'UK 4B'),
    ],
  });

const member = (name: string): UmbEmbMember =>
  Object.assign(new UmbEmbMember(), {
    name,
    profile1: new UmbProfile(`${name}-1`, new UmbIdentity(`${name}1@x.test`, new UmbIdentityMeta('f1', 'b1'))),
    profile2: new UmbProfile(`${name}-2`, new UmbIdentity(`${name}2@x.test`, new UmbIdentityMeta('f2', 'b2'))),
  });

it('mikro-orm embeddables: persist and load writes inline, prefixed, unprefixed, object and array embeddables', async () => {
  await pair.compare(
    async (side) => {
      const users = [fullUser('a@x.test'), fullUser('b@x.test')];
      await write(side, UmbEmbUser, users, 'insert');
      side.em.clear();
      const loaded = await side.em.find(UmbEmbUser, {}, { orderBy: { id: 'asc' } });
      return { objects: [...users, ...loaded] };
    },
    { tables: ['umb_emb_user'] },
  );
});

it('mikro-orm embeddables: nullable embeddable stored as nulls', async () => {
  await pair.compare(
    async (side) => {
      const users = [fullUser('a@x.test'), Object.assign(fullUser('b@x.test'), { address2: undefined }), fullUser('c@x.test')];
      users[2]!.address2 = null;
      await write(side, UmbEmbUser, users);
      side.em.clear();
      const loaded = await side.em.find(UmbEmbUser, {}, { orderBy: { id: 'asc' } });
      return { objects: [...users, ...loaded] };
    },
    { tables: ['umb_emb_user'] },
  );
});

it('mikro-orm embeddables: persist and load, a change to one inline and one object field updates only those', async () => {
  await pair.compare(
    async (side) => {
      const users = [fullUser('a@x.test'), fullUser('b@x.test')];
      await write(side, UmbEmbUser, users);
      users[0]!.address2!.postalCode = '111';
      users[0]!.address4.postalCode = '999';
      users[1]!.address1.city = 'Leeds';
      await write(side, UmbEmbUser, users, 'update');
      return { objects: users, value: managed(side, UmbEmbUser) };
    },
    { tables: ['umb_emb_user'] },
  );
});

it('mikro-orm embeddables: nullable array property set to null', async () => {
  await pair.compare(
    async (side) => {
      const users = [fullUser('a@x.test'), fullUser('b@x.test')];
      await write(side, UmbEmbUser, users);
      users[0]!.addresses = null;
      await write(side, UmbEmbUser, users);
      side.em.clear();
      const loaded = await side.em.find(UmbEmbUser, {}, { orderBy: { id: 'asc' } });
      return { objects: [...users, ...loaded] };
    },
    { tables: ['umb_emb_user'] },
  );
});

it('mikro-orm embeddables: a nullable embeddable set to null on a loaded entity clears its columns', async () => {
  await pair.compare(
    async (side) => {
      const users = [fullUser('a@x.test')];
      await write(side, UmbEmbUser, users);
      side.em.clear();
      const [loaded] = await side.em.find(UmbEmbUser, {});
      loaded!.address2 = null;
      await write(side, UmbEmbUser, [loaded!]);
      return { objects: [loaded!] };
    },
    { tables: ['umb_emb_user'] },
  );
});

it('mikro-orm embeddables: assign embeddables from plain data, then write', async () => {
  await pair.compare(
    async (side) => {
      const user = new UmbEmbUser();
      user.email = 'assigned@x.test';
      side.em.assign(
        user,
        {
          address1: { street: 'Downing street 10', postalCode: '123', city: 'London 1', country: 'UK 1' },
          address2: { street: 'Downing street 11', city: 'London 2', country: 'UK 2' },
          address3: { street: 'Downing street 12', postalCode: '789', city: 'London 3', country: 'UK 3' },
          address4: { city: '41', country: '42', postalCode: '43', street: '44' },
          addresses: [{ street: 'Side street 1', number: 1 }],
        },
        { em: side.em },
      );
      await write(side, UmbEmbUser, [user]);
      return { objects: [user] };
    },
    { tables: ['umb_emb_user'] },
  );
});

it('mikro-orm embeddables: native update entity — an inline change next to a plain column', async () => {
  await pair.compare(
    async (side) => {
      const users = [fullUser('a@x.test'), fullUser('b@x.test')];
      await write(side, UmbEmbUser, users);
      users[0]!.after = 2;
      users[1]!.address3.number = 3;
      users[1]!.after = 5;
      await write(side, UmbEmbUser, users, 'update');
      return { objects: users };
    },
    { tables: ['umb_emb_user'] },
  );
});

it('mikro-orm nested-embeddables: persist and load nested inline and object embeddables', async () => {
  await pair.compare(
    async (side) => {
      const members = [member('uwe'), member('ada')];
      members[1]!.profile1.identity.meta = undefined;
      await write(side, UmbEmbMember, members, 'insert');
      side.em.clear();
      const loaded = await side.em.find(UmbEmbMember, {}, { orderBy: { id: 'asc' } });
      return { objects: [...members, ...loaded] };
    },
    { tables: ['umb_emb_member'] },
  );
});

it('mikro-orm nested-embeddables: a change deep inside a nested embeddable is written', async () => {
  await pair.compare(
    async (side) => {
      const members = [member('uwe'), member('ada')];
      await write(side, UmbEmbMember, members);
      members[0]!.profile1.identity.meta!.foo = 'changed';
      members[1]!.profile2.identity.email = 'new@x.test';
      await write(side, UmbEmbMember, members);
      side.em.clear();
      const loaded = await side.em.find(UmbEmbMember, {}, { orderBy: { id: 'asc' } });
      return { objects: [...members, ...loaded] };
    },
    { tables: ['umb_emb_member'] },
  );
});

it('mikro-orm nested-embeddables: upsert and flush update with nested embedded arrays (GH #7233)', async () => {
  await pair.compare(
    async (side) => {
      const [upserted] = await upsert(side, UmbEmbMember, [member('uwe')], { onConflictFields: ['name'] });
      // em.upsert fires no afterCreate for the row it inserts, bulkUpsert does (docs/differences.md,
      // "Upsert hooks"): the journal compares the flush that follows.
      journal.take();
      upserted!.profile1.identity.links.push(new UmbIdentityLink('l1'));
      upserted!.profile2.identity.links.push(new UmbIdentityLink('l2'));
      await write(side, UmbEmbMember, [upserted!]);
      side.em.clear();
      const loaded = await side.em.find(UmbEmbMember, {});
      return { objects: [upserted!, ...loaded] };
    },
    { tables: ['umb_emb_member'] },
  );
});

it('mikro-orm nested-embeddables: upsert of an existing row with nested embedded arrays (GH #7233)', async () => {
  await pair.compare(
    async (side) => {
      const first = member('uwe');
      await write(side, UmbEmbMember, [first]);
      side.em.clear();
      const again = member('uwe');
      again.id = first.id;
      again.profile1.identity.links.push(new UmbIdentityLink('l1'));
      const [upserted] = await upsert(side, UmbEmbMember, [again]);
      // em.upsert fires no afterUpdate for the row it updates, bulkUpsert does (docs/differences.md, "Upsert hooks").
      journal.take();
      side.em.clear();
      const loaded = await side.em.find(UmbEmbMember, {});
      return { objects: [upserted!, ...loaded] };
    },
    { tables: ['umb_emb_member'] },
  );
});

it('mikro-orm embeddables/GH2149: object embeddable in an object embeddable keeps its initializers', async () => {
  await pair.compare(
    async (side) => {
      const players = [new UmbEmbPlayer(), new UmbEmbPlayer()];
      players[1]!.options.loop.enabled = true;
      await write(side, UmbEmbPlayer, players, 'insert');
      players[0]!.options.loop.kind = 'b';
      await write(side, UmbEmbPlayer, players);
      side.em.clear();
      const loaded = await side.em.find(UmbEmbPlayer, {}, { orderBy: { id: 'asc' } });
      return { objects: [...players, ...loaded] };
    },
    { tables: ['umb_emb_player'] },
  );
});

it('mikro-orm embedded-enum-check-constraints: enums inside inline and object embeddables', async () => {
  await pair.compare(
    async (side) => {
      const owners = [
        Object.assign(new UmbEmbOwner(), { pet: Object.assign(new UmbPet(), { kind: UmbAnimal.Cat, name: 'Tom' }) }),
        Object.assign(new UmbEmbOwner(), {
          pet: Object.assign(new UmbPet(), { kind: UmbAnimal.Dog, name: 'Rex' }),
          spare: Object.assign(new UmbPet(), { kind: UmbAnimal.Cat, name: 'Kit' }),
        }),
      ];
      await write(side, UmbEmbOwner, owners);
      owners[0]!.pet.kind = UmbAnimal.Dog;
      await write(side, UmbEmbOwner, owners);
      return { objects: owners };
    },
    { tables: ['umb_emb_owner'] },
  );
});

it('mikro-orm embeddable-custom-types: persist and load dates, bigints and JSON inside embeddables', async () => {
  await pair.compare(
    async (side) => {
      const stamp = (ms: number, counter: bigint, tags: string[]) =>
        Object.assign(new UmbStamp(), { at: new Date(ms), counter, extra: { tags } });
      const rows = [
        Object.assign(new UmbEmbStamped(), {
          inline: stamp(1_700_000_000_123, 9_007_199_254_740_993n, ['a']),
          object: stamp(1_600_000_000_000, 7n, ['b', 'c']),
          many: [stamp(1_500_000_000_000, 1n, []), new UmbStamp()],
        }),
      ];
      await write(side, UmbEmbStamped, rows);
      rows[0]!.object.at = new Date(1_650_000_000_000);
      rows[0]!.inline.extra = { tags: ['z'] };
      await write(side, UmbEmbStamped, rows);
      side.em.clear();
      const loaded = await side.em.find(UmbEmbStamped, {});
      return { objects: [...rows, ...loaded] };
    },
    { tables: ['umb_emb_stamped'] },
  );
});
