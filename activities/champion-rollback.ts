import { restoreChampion, type ChampionRollbackOutcome, type ChampionRollbackRequest } from '../lib/promotion/traffic-moves';
import type { ActivityDeps } from './activity-deps';

export function createChampionRollbackActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /**
     * Rolls the champion back (lib/promotion/traffic-moves.ts restoreChampion): one transaction
     * moves the traffic, the stages and records who asked. A retry of the same run's request
     * returns what the first attempt did; a request that cannot be done fails as RollbackRefused.
     */
    async restoreChampion(request: ChampionRollbackRequest): Promise<ChampionRollbackOutcome> {
      return restoreChampion(db, request);
    },
  };
}
