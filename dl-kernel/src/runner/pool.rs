//! Warm engines for `dl-kernel run`: a new engine needs about eight seconds (evcxr's start,
//! dl-core's preload) before its first cell, so one thread warms engines ahead, `reserve` of them
//! waiting at any time, while the notebooks run. Each notebook still gets a fresh engine, so
//! nothing of one notebook reaches the next.

use crate::engine::Engine;
use anyhow::Result;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Mutex;

/// Engines warmed ahead, as many as notebooks will ask for.
pub struct Pool {
    ready: Mutex<Receiver<Result<Engine>>>,
}

impl Pool {
    /// Starts warming `count` engines, at most `reserve` ahead of the ones taken.
    pub fn new(count: usize, reserve: usize) -> Pool {
        let (tx, rx) = sync_channel(reserve.saturating_sub(1));
        std::thread::spawn(move || {
            for _ in 0..count {
                let engine = Engine::start(&mut |m| eprintln!("{m}"));
                if tx.send(engine).is_err() {
                    break;
                }
            }
        });
        Pool { ready: Mutex::new(rx) }
    }

    /// The next warm engine (waits while it warms).
    ///
    /// # Errors
    /// When the engine could not start, or more were taken than asked for.
    pub fn take(&self) -> Result<Engine> {
        let rx = self.ready.lock().unwrap_or_else(|e| e.into_inner());
        rx.recv().map_err(|_| anyhow::anyhow!("no engine left to run notebooks with"))?
    }
}
