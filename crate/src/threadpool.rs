//! A small fork-join thread pool for the threaded wasm build: [`parallel_for`] runs `n` tasks
//! on the calling thread and the pool's workers, and returns when all are done.
//!
//! Why not rayon (wasm-bindgen-rayon): its caller parks on a futex (`memory.atomic.wait32`)
//! until the pool has finished, and the browser's main thread may not wait (the instruction
//! traps there); its README asks for the whole module to live in a Worker. The page calls the
//! kernels on the main thread as well as in workers, so this pool does what emscripten's
//! pthreads and XNNPACK's pthreadpool do: the caller takes tasks like any worker and then
//! spins (never waits) until the workers have checked in. Only the workers sleep, on
//! `memory.atomic.wait32`, between jobs.
//!
//! The workers are Web Workers started from JavaScript (`crate/js/api.js`, `pool-worker.js`):
//! each instantiates the same module on the same shared memory and calls `poolWorker(slot)`,
//! which loops here until the slot is retired.
//!
//! Without the `atomics` target feature (native builds, the stable simd128 and relaxed wasm
//! builds) there are no workers: [`parallel_for`] runs the tasks in order on the caller, and
//! [`threads`] is 1.

use crate::error::{Error, Result};

/// The most threads the pool runs (the caller and `MAX_THREADS - 1` workers).
pub const MAX_THREADS: usize = 16;

/// How many threads run the kernels: the caller plus the active workers (1 without atomics).
pub fn threads() -> usize {
    imp::threads()
}

/// Sets how many threads run the kernels. Without atomics only 1 is possible; with atomics,
/// `n - 1` workers must have been started (JavaScript's `setThreads` starts them), and the
/// workers past `n - 1` are told to stop.
pub fn set_threads(n: usize) -> Result<()> {
    if n == 0 || n > MAX_THREADS {
        return Err(Error::param(
            "threads",
            n,
            format!("must be a whole number from 1 to {MAX_THREADS}"),
        ));
    }
    imp::set_threads(n)
}

/// Whether this build can run more than one thread (it was compiled with wasm atomics).
pub fn threaded_build() -> bool {
    cfg!(all(target_arch = "wasm32", target_feature = "atomics"))
}

/// Runs `task(0)`, …, `task(n_tasks - 1)`, each exactly once, on the caller and the pool's
/// workers, and returns when all have finished. Tasks must not depend on their order. A
/// `parallel_for` inside a task (or while another runs) runs its tasks in order on its own
/// thread.
pub fn parallel_for(n_tasks: usize, task: &(dyn Fn(usize) + Sync)) {
    imp::parallel_for(n_tasks, task)
}

/// Below this many multiply-adds per task a computation stays on one thread: waking a worker
/// and waiting for it costs a few microseconds, and 2¹⁸ multiply-adds take about 10 µs. The
/// matrix-vector product and the convolutions' own splits follow it; the GEMM splits down to
/// half of it (`gemm::driver::GEMM_MIN_TASK_WORK`).
pub(crate) const MIN_TASK_WORK: usize = 1 << 18;

#[cfg(test)]
thread_local! {
    /// Tests: cut every split computation of this thread into this many tasks (0: plan as usual).
    static FORCED_TASKS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Tests: runs `f` with every split computation on this thread (GEMM, matrix-vector, the
/// convolutions' splits) cut into (at most) `tasks` parts whatever its size, run through the
/// pool (in order, natively). `with_tasks(1, …)` runs everything as one part.
#[cfg(test)]
pub(crate) fn with_tasks<R>(tasks: usize, f: impl FnOnce() -> R) -> R {
    struct Reset(usize);
    impl Drop for Reset {
        fn drop(&mut self) {
            FORCED_TASKS.with(|t| t.set(self.0));
        }
    }
    let _reset = Reset(FORCED_TASKS.with(|t| t.get()));
    FORCED_TASKS.with(|t| t.set(tasks));
    f()
}

/// The forced task count of [`with_tasks`] (0 outside it, and always 0 outside tests).
pub(crate) fn forced_tasks() -> usize {
    #[cfg(test)]
    return FORCED_TASKS.with(|t| t.get());
    #[cfg(not(test))]
    0
}

/// How many threads a computation started now can run on: [`threads`], or 1 inside a task of
/// a running [`parallel_for`] (whose nested calls run their tasks in order on one thread, so
/// cutting the work there would only add the parts' overhead).
pub(crate) fn free_threads() -> usize {
    if imp::busy() {
        1
    } else {
        threads()
    }
}

/// How many tasks a computation of `work` multiply-adds should be cut into: one per free
/// thread ([`free_threads`]), but none below [`MIN_TASK_WORK`] each (at least 1); the forced
/// count in tests.
pub(crate) fn tasks_for(work: usize) -> usize {
    match forced_tasks() {
        0 => free_threads().min(work / MIN_TASK_WORK).max(1),
        forced => forced,
    }
}

/// `len` items cut into `parts` consecutive ranges of `chunk` items (the last may be shorter),
/// `chunk` a multiple of a unit: part `i` is `i·chunk .. min((i + 1)·chunk, len)`. Every item
/// is in exactly one part, and no part is empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Chunks {
    pub len: usize,
    pub chunk: usize,
    pub parts: usize,
}

impl Chunks {
    /// At most `tasks` parts of whole `unit`s (`unit` ≥ 1; one part when `tasks` ≤ 1 or
    /// there is at most one unit).
    pub(crate) fn new(len: usize, unit: usize, tasks: usize) -> Chunks {
        let unit = unit.max(1);
        let units = len.div_ceil(unit);
        let tasks = tasks.clamp(1, units.max(1));
        let chunk = (units.div_ceil(tasks) * unit).max(1);
        Chunks {
            len,
            chunk,
            parts: len.div_ceil(chunk).max(1),
        }
    }

    /// [`Chunks::new`], with fewer parts while the last (the smallest) would do fewer than
    /// [`MIN_TASK_WORK`] multiply-adds, `item_work` an item; a forced count ([`with_tasks`]) as
    /// asked.
    pub(crate) fn for_work(len: usize, unit: usize, item_work: usize, tasks: usize) -> Chunks {
        let mut tasks = tasks;
        loop {
            let c = Chunks::new(len, unit, tasks);
            let last = c.range(c.parts - 1).len();
            if c.parts <= 1
                || forced_tasks() != 0
                || last.saturating_mul(item_work) >= MIN_TASK_WORK
            {
                return c;
            }
            tasks = c.parts - 1;
        }
    }

    /// The items of part `i` (empty past the last part).
    pub(crate) fn range(&self, i: usize) -> std::ops::Range<usize> {
        let start = (i * self.chunk).min(self.len);
        start..(start + self.chunk).min(self.len)
    }
}

/// Runs `task(i, item_i)` for every item, each on exactly one thread (the pool's, as
/// [`parallel_for`]), and returns the error of the lowest-numbered task that failed. The items
/// are what a task may write (its part of an output, its own scratch): each goes to one task.
pub(crate) fn try_for_each<T: Send>(
    items: Vec<T>,
    task: &(dyn Fn(usize, T) -> Result<()> + Sync),
) -> Result<()> {
    use std::sync::Mutex;
    if items.len() <= 1 {
        return items.into_iter().try_for_each(|item| task(0, item));
    }
    // One slot per task, taken (and its result put back) by that task alone: no lock is ever
    // contended, so none waits (which the browser's main thread may not do).
    let slots: Vec<Mutex<(Option<T>, Result<()>)>> = items
        .into_iter()
        .map(|t| Mutex::new((Some(t), Ok(()))))
        .collect();
    parallel_for(slots.len(), &|i| {
        let mut slot = slots[i].lock().unwrap_or_else(|e| e.into_inner());
        if let Some(item) = slot.0.take() {
            slot.1 = task(i, item);
        }
    });
    slots
        .into_iter()
        .try_for_each(|s| s.into_inner().unwrap_or_else(|e| e.into_inner()).1)
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "atomics")))]
mod imp {
    use crate::error::{Error, Result};

    pub fn threads() -> usize {
        1
    }

    pub fn busy() -> bool {
        false
    }

    pub fn set_threads(n: usize) -> Result<()> {
        if n == 1 {
            Ok(())
        } else {
            Err(Error::param(
                "threads",
                n,
                "this build has no threads (it was compiled without wasm atomics): only 1 runs",
            ))
        }
    }

    pub fn parallel_for(n_tasks: usize, task: &(dyn Fn(usize) + Sync)) {
        for i in 0..n_tasks {
            task(i);
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
mod imp {
    //! The protocol. Each worker slot has its own `go` word: the caller publishes a job by
    //! writing the job's fields, then a fresh epoch number into `go[s]` of every active slot
    //! (release), and notifies. A worker wakes when its `go` word differs from the last epoch
    //! it saw (its first `seen` is 0, which `prepare_worker` stores, so a worker still
    //! starting cannot miss a job), claims tasks until they run out, and then decrements
    //! `pending`. A job of up to 64 tasks is claimed through the bits of `claimed`, each thread
    //! its own task first (the caller task 0, slot s task s + 1) and then any left: so the
    //! thread that computed a part of one product computes the same part of the next (a dense
    //! layer's rows of weights in its forward pass, their gradient, their update) and finds
    //! its data in its own cache, while a late worker's task is still taken by a thread that
    //! is free. Longer jobs are claimed in order from `next`. The caller claims tasks too, then
    //! spins until `pending` is 0: only then has every worker left the job, so the borrowed
    //! closure may end. Since every active worker checks in for every job, no worker can run a
    //! stale job's tasks.

    use core::arch::wasm32::{memory_atomic_notify, memory_atomic_wait32};
    use std::cell::UnsafeCell;
    use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

    use super::MAX_THREADS;
    use crate::error::{Error, Result};

    const SLOTS: usize = MAX_THREADS - 1;

    /// Spins before a worker sleeps: jobs come in bursts (every GEMM of a forward pass), and
    /// waking from `memory.atomic.wait32` costs tens of microseconds. 2²⁰ spins last 1–2 ms
    /// in Chromium on the 2-core test machine; 2¹⁶ ran out between a dense layer's products
    /// (training the mlp, its worker slept before 60–90% of its jobs).
    const SPINS: u32 = 1 << 20;

    type Task = &'static (dyn Fn(usize) + Sync);

    /// The job's closure, written by the caller before it publishes the epoch.
    struct JobCell(UnsafeCell<Option<Task>>);
    // safety: written only by the one caller that holds `RUNNING`, while no worker reads it
    // (before the epoch's release store, after `pending` reached 0); read by workers only
    // between those two points.
    unsafe impl Sync for JobCell {}

    static JOB: JobCell = JobCell(UnsafeCell::new(None));
    static N_TASKS: AtomicUsize = AtomicUsize::new(0);
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    /// Tasks claimed, one bit each, in a job of at most 64 tasks.
    static CLAIMED: AtomicU64 = AtomicU64::new(0);
    static PENDING: AtomicUsize = AtomicUsize::new(0);
    /// Held by the one thread publishing a job (or changing the worker count).
    static RUNNING: AtomicBool = AtomicBool::new(false);
    /// The last epoch published (a job or a retirement); each one is fresh.
    static EPOCH: AtomicU32 = AtomicU32::new(0);
    /// Per slot: the epoch it must act on.
    static GO: [AtomicU32; SLOTS] = [const { AtomicU32::new(0) }; SLOTS];
    /// Per slot: stop instead of running a job.
    static QUIT: [AtomicBool; SLOTS] = [const { AtomicBool::new(false) }; SLOTS];
    /// Slots with a worker started (prepared by JavaScript), `0..STARTED`.
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    /// Slots that take part in jobs, `0..ACTIVE` (≤ STARTED).
    static ACTIVE: AtomicUsize = AtomicUsize::new(0);
    /// Set when a worker failed (trapped): a caller waiting for it would spin forever.
    static FAILED: AtomicBool = AtomicBool::new(false);

    pub fn threads() -> usize {
        1 + ACTIVE.load(Ordering::Relaxed)
    }

    /// Whether a job (or a change of the worker count) is running: a `parallel_for` now would
    /// run its tasks in order on its own thread.
    pub fn busy() -> bool {
        RUNNING.load(Ordering::Relaxed)
    }

    /// Reserves the next worker slot for a worker JavaScript is about to start.
    pub fn prepare_worker() -> Result<usize> {
        let slot = STARTED.load(Ordering::Relaxed);
        if slot >= SLOTS {
            return Err(Error::param(
                "threads",
                slot + 2,
                format!("at most {MAX_THREADS} threads run"),
            ));
        }
        GO[slot].store(0, Ordering::Relaxed);
        QUIT[slot].store(false, Ordering::Relaxed);
        STARTED.store(slot + 1, Ordering::Release);
        Ok(slot)
    }

    /// Marks the pool failed (a worker trapped): the caller of the current job panics.
    pub fn worker_failed() {
        FAILED.store(true, Ordering::Release);
    }

    fn lock() -> Result<()> {
        if RUNNING.swap(true, Ordering::Acquire) {
            Err(Error::shape(
                "the thread pool is busy: setThreads was called during a computation",
            ))
        } else {
            Ok(())
        }
    }

    fn signal(slot: usize) -> u32 {
        let e = EPOCH.fetch_add(1, Ordering::Relaxed).wrapping_add(1).max(1);
        GO[slot].store(e, Ordering::Release);
        // safety: GO[slot] is a live, aligned 32-bit word of this memory.
        unsafe { memory_atomic_notify(GO[slot].as_ptr() as *mut i32, 1) };
        e
    }

    pub fn set_threads(n: usize) -> Result<()> {
        let started = STARTED.load(Ordering::Acquire);
        if n - 1 > started {
            return Err(Error::param(
                "threads",
                n,
                format!(
                    "only {started} worker(s) were started: JavaScript's setThreads starts them"
                ),
            ));
        }
        lock()?;
        ACTIVE.store(n - 1, Ordering::Relaxed);
        for (slot, quit) in QUIT.iter().enumerate().take(started).skip(n - 1) {
            quit.store(true, Ordering::Relaxed);
            signal(slot);
        }
        STARTED.store(n - 1, Ordering::Relaxed);
        RUNNING.store(false, Ordering::Release);
        Ok(())
    }

    /// Claims and runs tasks of the current job until none are left: thread `me` (0 the
    /// caller, slot s is s + 1) first its own.
    fn run_tasks(me: usize) {
        // safety: JOB holds the current job's closure for as long as this thread takes part
        // (see JobCell).
        let Some(task) = (unsafe { *JOB.0.get() }) else {
            return;
        };
        let n = N_TASKS.load(Ordering::Relaxed);
        if n <= 64 {
            let all = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
            let mut want = me;
            loop {
                if want < n {
                    let bit = 1u64 << want;
                    if CLAIMED.fetch_or(bit, Ordering::Relaxed) & bit == 0 {
                        task(want);
                    }
                }
                let free = !CLAIMED.load(Ordering::Relaxed) & all;
                if free == 0 {
                    return;
                }
                want = free.trailing_zeros() as usize;
            }
        }
        loop {
            let i = NEXT.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                break;
            }
            task(i);
        }
    }

    pub fn parallel_for(n_tasks: usize, task: &(dyn Fn(usize) + Sync)) {
        let workers = ACTIVE.load(Ordering::Relaxed);
        if n_tasks <= 1 || workers == 0 || RUNNING.swap(true, Ordering::Acquire) {
            for i in 0..n_tasks {
                task(i);
            }
            return;
        }
        let workers = workers.min(n_tasks - 1);
        // safety: the 'static lifetime is a lie told only to the static cell: the closure is
        // read by workers only until `PENDING` reaches 0, and this function does not return
        // before that.
        let job: Task = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync), Task>(task) };
        // safety: this thread holds RUNNING and no worker is inside a job.
        unsafe { *JOB.0.get() = Some(job) };
        N_TASKS.store(n_tasks, Ordering::Relaxed);
        NEXT.store(0, Ordering::Relaxed);
        CLAIMED.store(0, Ordering::Relaxed);
        PENDING.store(workers, Ordering::Relaxed);
        for slot in 0..workers {
            signal(slot);
        }
        run_tasks(0);
        while PENDING.load(Ordering::Acquire) != 0 {
            if FAILED.load(Ordering::Relaxed) {
                panic!("a thread-pool worker failed during a computation");
            }
            std::hint::spin_loop();
        }
        // safety: every worker has left the job (PENDING is 0).
        unsafe { *JOB.0.get() = None };
        RUNNING.store(false, Ordering::Release);
    }

    /// A worker's life: wait for its slot's next epoch, run the job's tasks, check in; return
    /// when the slot is retired.
    pub fn worker(slot: usize) {
        let Some(go) = GO.get(slot) else {
            return;
        };
        let mut seen = 0u32;
        loop {
            let mut spins = 0;
            let mut now = go.load(Ordering::Acquire);
            while now == seen {
                if spins < SPINS {
                    spins += 1;
                    std::hint::spin_loop();
                } else {
                    // safety: `go` is a live, aligned 32-bit word; a worker may wait.
                    unsafe { memory_atomic_wait32(go.as_ptr() as *mut i32, seen as i32, -1) };
                }
                now = go.load(Ordering::Acquire);
            }
            seen = now;
            if QUIT[slot].load(Ordering::Acquire) {
                return;
            }
            run_tasks(slot + 1);
            PENDING.fetch_sub(1, Ordering::Release);
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
pub(crate) use imp::{prepare_worker, worker, worker_failed};

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn without_atomics_one_thread_runs_every_task_once_in_order() {
        assert_eq!(threads(), 1);
        assert!(!threaded_build());
        let seen = std::sync::Mutex::new(Vec::new());
        parallel_for(5, &|i| seen.lock().unwrap().push(i));
        assert_eq!(*seen.lock().unwrap(), [0, 1, 2, 3, 4]);
        let count = AtomicUsize::new(0);
        parallel_for(0, &|_| {
            count.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(count.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn set_threads_takes_one_and_names_the_rest() {
        assert!(set_threads(1).is_ok());
        let e = set_threads(2).unwrap_err().to_string();
        assert!(
            e.contains("threads") && e.contains('2') && e.contains("no threads"),
            "{e}"
        );
        let e = set_threads(0).unwrap_err().to_string();
        assert!(e.contains("threads") && e.contains("from 1 to 16"), "{e}");
        let e = set_threads(17).unwrap_err().to_string();
        assert!(e.contains("17"), "{e}");
    }
}
