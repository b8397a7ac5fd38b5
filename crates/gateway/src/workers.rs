//! Thread-per-core: the data plane's worker threads, each a current-thread tokio runtime that
//! accepts on its own `SO_REUSEPORT` socket of every listener and serves the connections it
//! accepted start to end, as nginx's worker processes do. The kernel spreads new connections
//! over the sockets; a connection, its requests and its backend calls never change thread, so
//! no work-stealing scheduler, cross-thread wake-up or cache-line ping-pong is paid per request.
//!
//! Shared between workers, because they must be: the snapshot (one `ArcSwap`), the connection
//! limit, counters, caches and backend pools (crates/gateway/src/upstream.rs). The control plane
//! (reloads, the management API, the portal, the Git endpoint) runs on the process's own
//! runtime, so it never takes a worker's time.

use std::future::Future;
use std::sync::mpsc;
use std::thread::JoinHandle;
use tokio::runtime::Handle;
use tokio::sync::watch;

/// The running workers; dropping them stops their runtimes (and with them every task).
pub struct Workers {
    handles: Vec<Handle>,
    stop: watch::Sender<bool>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("count", &self.handles.len())
            .finish()
    }
}

impl Workers {
    /// Starts `count` worker threads (`gatehouse-worker-N`).
    pub fn start(count: usize) -> std::io::Result<Workers> {
        let (stop, stopped) = watch::channel(false);
        let mut handles = Vec::with_capacity(count);
        let mut threads = Vec::with_capacity(count);
        for i in 0..count {
            let (tx, rx) = mpsc::channel();
            let mut stopped = stopped.clone();
            let thread = std::thread::Builder::new()
                .name(format!("gatehouse-worker-{i}"))
                .spawn(move || {
                    let rt = match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(rt) => rt,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = tx.send(Ok(rt.handle().clone()));
                    rt.block_on(async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    });
                })?;
            let handle = rx
                .recv()
                .map_err(|_| std::io::Error::other("a worker thread ended at its start"))??;
            handles.push(handle);
            threads.push(thread);
        }
        Ok(Workers {
            handles,
            stop,
            threads,
        })
    }

    /// Stops every worker's runtime (its remaining tasks are dropped): after the drain.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    pub fn count(&self) -> usize {
        self.handles.len()
    }

    /// Runs `make(i)`'s future on worker `i`, for every worker.
    pub fn spawn_each<F, Fut>(&self, mut make: F)
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        for (i, h) in self.handles.iter().enumerate() {
            h.spawn(make(i));
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The number of workers by default: the cores this process may run on (its CPU affinity, as
/// `taskset` or a container's cpuset leaves it), at least one.
pub fn default_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_worker_runs_its_task_on_its_own_thread() {
        let workers = Workers::start(3).expect("workers");
        assert_eq!(workers.count(), 3);
        let (tx, rx) = mpsc::channel();
        let ran = Arc::new(AtomicUsize::new(0));
        workers.spawn_each(|i| {
            let tx = tx.clone();
            let ran = ran.clone();
            async move {
                ran.fetch_add(1, Ordering::SeqCst);
                let name = std::thread::current().name().map(str::to_string);
                let _ = tx.send((i, name));
            }
        });
        let mut seen: Vec<(usize, Option<String>)> =
            (0..3).map(|_| rx.recv().expect("ran")).collect();
        seen.sort();
        assert_eq!(
            seen,
            (0..3)
                .map(|i| (i, Some(format!("gatehouse-worker-{i}"))))
                .collect::<Vec<_>>()
        );
        drop(workers);
        assert_eq!(ran.load(Ordering::SeqCst), 3);
    }
}
