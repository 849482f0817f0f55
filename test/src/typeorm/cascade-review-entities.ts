// Entities of the TypeORM cascade-insert review (cascade-review.test.ts): a post and the classes
// save() reaches from it through relations with every kind of cascade (true, ['insert'],
// ['update'], none), a client-set key, a uuid key, generated columns, an embedded, hooks and
// single-table inheritance. Hooks record into the upstream-pair journal.
import {
  AfterInsert,
  BeforeInsert,
  ChildEntity,
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  JoinTable,
  ManyToMany,
  ManyToOne,
  OneToMany,
  OneToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  TableInheritance,
  VersionColumn,
} from 'typeorm';
import { journal } from '../harness/upstream-pair.js';

/** An embedded of the publisher. */
export class TrContact {
  @Column({ type: 'varchar', length: 40, nullable: true }) email?: string | null;
}

/** A client-set key: a new one has its key when it is made. */
@Entity('tr_country')
export class TrCountry {
  @PrimaryColumn({ type: 'varchar', length: 2 }) code!: string;
  @Column({ type: 'varchar', length: 40 }) name!: string;
}

@Entity('tr_publisher')
export class TrPublisher {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  /** Set by the beforeInsert hook; referenced by TrPost.brand. */
  @Column({ type: 'varchar', length: 40, nullable: true, unique: true }) slug?: string | null;
  @Column(() => TrContact) contact!: TrContact;
  @VersionColumn() version!: number;
  @CreateDateColumn() created!: Date;

  @BeforeInsert() slugify(): void {
    journal.record('beforeInsert', { publisher: this.name });
    this.slug = this.name.toUpperCase();
  }
}

/** Reached through the author without cascade. */
@Entity('tr_agent')
export class TrAgent {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToOne(() => TrPublisher, { nullable: true, cascade: true }) publisher?: TrPublisher | null;
}

@Entity('tr_author')
export class TrAuthor {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @ManyToOne(() => TrPublisher, { nullable: true, cascade: true }) publisher?: TrPublisher | null;
  @ManyToOne(() => TrCountry, { nullable: true, cascade: ['insert'] }) country?: TrCountry | null;
  /** No cascade. */
  @ManyToOne(() => TrAgent, { nullable: true }) agent?: TrAgent | null;
  /** Many-to-many links of a related entity (junction tr_author_tags). */
  @ManyToMany(() => TrTag)
  @JoinTable({ name: 'tr_author_tags' })
  tags?: TrTag[];
  /** A tree of the related class, cascading inserts. */
  @ManyToOne(() => TrAuthor, { nullable: true, cascade: ['insert'] }) mentor?: TrAuthor | null;
  @OneToMany(
    () => TrBook,
    (book) => book.author,
    { cascade: true },
  )
  books?: TrBook[];

  @BeforeInsert() logInsert(): void {
    journal.record('beforeInsert', { author: this.name });
  }

  /** An author "h…" stamps its books once it has its key (a code derived from a generated key). */
  @AfterInsert() stampBooks(): void {
    if (this.name.startsWith('h')) for (const book of this.books ?? []) book.title = `${book.title}#${this.id}`;
  }
}

@Entity('tr_book')
export class TrBook {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) title!: string;
  @ManyToOne(
    () => TrAuthor,
    (author) => author.books,
    { nullable: true },
  )
  author?: TrAuthor | null;
}

/** A uuid key the database generates. */
@Entity('tr_cover')
export class TrCover {
  @PrimaryGeneratedColumn('uuid') coverId!: string;
  @Column({ type: 'varchar', length: 40 }) image!: string;
}

/** Single-table inheritance: the post refers to the parent class, holds a child. */
@Entity('tr_media')
@TableInheritance({ column: { type: 'varchar', name: 'kind' } })
export class TrMedia {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) url!: string;
}

@ChildEntity('photo')
export class TrPhoto extends TrMedia {
  @Column({ type: 'varchar', length: 40, nullable: true }) lens?: string | null;
  /** A relation of the child class only. */
  @ManyToOne(() => TrAuthor, { nullable: true, cascade: true }) credit?: TrAuthor | null;

  @BeforeInsert() setLens(): void {
    journal.record('beforeInsert', { photo: this.url });
    this.lens ??= 'auto';
  }
}

@Entity('tr_post')
export class TrPost {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40, unique: true }) title!: string;
  /** Cascades inserts only. */
  @ManyToOne(() => TrAuthor, { nullable: true, cascade: ['insert'] }) author?: TrAuthor | null;
  /** Cascades inserts and updates. */
  @ManyToOne(() => TrAuthor, { nullable: true, cascade: true }) coauthor?: TrAuthor | null;
  /** Cascades updates only. */
  @ManyToOne(() => TrAuthor, { nullable: true, cascade: ['update'] }) reviewer?: TrAuthor | null;
  /** A client-set key, with a foreign key constraint. */
  @ManyToOne(() => TrCountry, { nullable: true, cascade: ['insert'] }) country?: TrCountry | null;
  /** A client-set key, without a foreign key constraint. */
  @ManyToOne(() => TrCountry, { nullable: true, cascade: ['insert'], createForeignKeyConstraints: false })
  origin?: TrCountry | null;
  @OneToOne(() => TrCover, { nullable: true, cascade: true })
  @JoinColumn({ name: 'cover_id' })
  cover?: TrCover | null;
  @ManyToOne(() => TrMedia, { nullable: true, cascade: true }) media?: TrMedia | null;
  @OneToMany(
    () => TrComment,
    (comment) => comment.post,
    { cascade: ['insert'] },
  )
  comments?: TrComment[];
  /** Refers to a column other than the key, which the target's beforeInsert sets. */
  @ManyToOne(() => TrPublisher, { nullable: true, cascade: true })
  @JoinColumn({ name: 'brand_slug', referencedColumnName: 'slug' })
  brand?: TrPublisher | null;
  /** The foreign key as a property of its own next to the relation (a common pattern). */
  @Column({ type: 'integer', nullable: true }) editorId?: number | null;
  @ManyToOne(() => TrAuthor, { nullable: true, cascade: true })
  @JoinColumn({ name: 'editorId' })
  editor?: TrAuthor | null;
  @OneToMany(
    () => TrReply,
    (reply) => reply.post,
    { cascade: true },
  )
  replies?: TrReply[];
  @OneToMany(
    () => TrNote,
    (note) => note.post,
    { cascade: ['update'] },
  )
  notes?: TrNote[];

  @BeforeInsert() logInsert(): void {
    journal.record('beforeInsert', { post: this.title });
    // A hook that changes the entity it refers to (a post titled "h…" signs its author's name).
    if (this.title.startsWith('h') && this.author) this.author.name = `${this.author.name}:${this.title}`;
  }
}

@Entity('tr_comment')
export class TrComment {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) body!: string;
  @ManyToOne(
    () => TrPost,
    (post) => post.comments,
    { nullable: false },
  )
  post!: TrPost;
  @ManyToOne(() => TrAuthor, { nullable: true, cascade: true }) by?: TrAuthor | null;

  @BeforeInsert() logInsert(): void {
    journal.record('beforeInsert', { comment: this.body });
    // A hook that changes the row it belongs to (a comment "h…" marks its post's title, a counter's pattern).
    if (this.body.startsWith('h')) this.post.title = `${this.post.title}+`;
  }
}

@Entity('tr_note')
export class TrNote {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) text!: string;
  @ManyToOne(
    () => TrPost,
    (post) => post.notes,
    { nullable: true },
  )
  post?: TrPost | null;
}

@Entity('tr_tag')
export class TrTag {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
}

/** A lazy relation (a class of its own: reading it unset loads it). */
@Entity('tr_flyer')
export class TrFlyer {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) title!: string;
  @ManyToOne(() => TrPublisher, { nullable: true, cascade: true, lazy: true }) sponsor!: Promise<TrPublisher | null>;
}

/** A one-to-many item whose foreign key is a non-null property of its own next to the relation. */
@Entity('tr_reply')
export class TrReply {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) body!: string;
  @Column({ type: 'integer' }) postId!: number;
  @ManyToOne(
    () => TrPost,
    (post) => post.replies,
  )
  @JoinColumn({ name: 'postId' })
  post!: TrPost;
}

/** Keyed by its author's key (a primary key that is a foreign key), the author cascaded. */
@Entity('tr_profile')
export class TrProfile {
  @PrimaryColumn({ type: 'integer' }) authorId!: number;
  @Column({ type: 'varchar', length: 40 }) bio!: string;
  @OneToOne(() => TrAuthor, { cascade: true })
  @JoinColumn({ name: 'authorId' })
  author!: TrAuthor;
}

export const REVIEW_ENTITIES = [
  TrTag,
  TrFlyer,
  TrReply,
  TrProfile,
  TrCountry,
  TrPublisher,
  TrAgent,
  TrAuthor,
  TrBook,
  TrCover,
  TrMedia,
  TrPhoto,
  TrPost,
  TrComment,
  TrNote,
];
export const REVIEW_TABLES = [
  'tr_tag',
  'tr_author_tags',
  'tr_flyer',
  'tr_reply',
  'tr_profile',
  'tr_country',
  'tr_publisher',
  'tr_agent',
  'tr_author',
  'tr_book',
  'tr_cover',
  'tr_media',
  'tr_post',
  'tr_comment',
  'tr_note',
];
