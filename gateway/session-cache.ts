import type { ServedVersionRef } from '../lib/db/repositories/deployments';
import type { ArtifactStore } from '../lib/store/artifact-store';
import { ModelSession } from './model-session';

/**
 * Model sessions by version id. A version is loaded from the artifact store once (the
 * store verifies the sha256 recorded for it) and shared by every role and request that
 * uses it; it is dropped when its last reference is released.
 */
export class SessionCache {
  private readonly sessions = new Map<string, ModelSession>();
  private readonly loading = new Map<string, Promise<ModelSession>>();

  constructor(private readonly store: Pick<ArtifactStore, 'getBytes'>) {}

  /** A retained session for the version: the cached one, or a new load (concurrent callers share it). */
  async acquire(ref: ServedVersionRef): Promise<ModelSession> {
    const cached = this.sessions.get(ref.id);
    if (cached) return cached.retain();
    let pending = this.loading.get(ref.id);
    if (!pending) {
      pending = this.load(ref).finally(() => this.loading.delete(ref.id));
      this.loading.set(ref.id, pending);
    }
    // Retain in the continuation that receives it, before any other task can release it.
    return pending.then((session) => session.retain());
  }

  /** Version ids with an open session. */
  get loadedVersionIds(): string[] {
    return [...this.sessions.keys()];
  }

  private async load(ref: ServedVersionRef): Promise<ModelSession> {
    const bytes = await this.store.getBytes({ key: ref.artifactKey, sha256: ref.artifactSha256 });
    const session = await ModelSession.create(bytes, ref);
    session.whenDisposed(() => {
      if (this.sessions.get(ref.id) === session) this.sessions.delete(ref.id);
    });
    this.sessions.set(ref.id, session);
    return session;
  }
}
