/** A clock tests move by hand, passed as `now` to the CA. */
export class ManualClock {
  #time: number

  constructor(start: Date) {
    this.#time = start.getTime()
  }

  /** The current time, a fresh Date each call. */
  readonly now = (): Date => new Date(this.#time)

  advance(milliseconds: number): void {
    this.#time += milliseconds
  }
}
