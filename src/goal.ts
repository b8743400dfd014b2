import { TurnHandle } from "./turn";
import type { ThreadGoal } from "./types";

/**
 * A goal run as one logical turn: one id (its first physical turn's), one stream with exactly one
 * `turn/started` and one `turn/completed`, one result spanning every continuation. `steer()` and
 * `interrupt()` act on whichever physical turn is current; `interrupt()` and `cancel()` also pause
 * the goal so no continuation follows.
 */
export class GoalHandle extends TurnHandle {
  /** Physical turns so far; `id === turnIds[0]`. */
  get turnIds(): readonly string[] {
    return this._turn.turnIds();
  }

  /** The latest goal snapshot seen. */
  get goal(): ThreadGoal | null {
    const goal = this._turn.goal();
    return goal === null ? null : (JSON.parse(goal) as ThreadGoal);
  }

  /** Pauses the goal and interrupts the running turn; `result()` then resolves `interrupted`. */
  cancel(): Promise<void> {
    return this.interrupt();
  }
}
