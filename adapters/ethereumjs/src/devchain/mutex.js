// One lane for everything that touches the VM: block building, eth_call and
// gas estimation on VM copies, state reads. The module's checkpoint ids are
// journal positions used in LIFO order ([HOST-27]), so two of these must
// never interleave; a FIFO lock keeps them in arrival order.
export class Mutex {
  constructor() {
    this.tail = Promise.resolve();
  }

  /** Run fn alone; resolves or rejects with fn's outcome. */
  run(fn) {
    const result = this.tail.then(() => fn());
    this.tail = result.then(() => {}, () => {});
    return result;
  }
}
