//! Adaptive concurrency in the machine: each host's [`AdaptiveLimit`] hears of every attempt
//! that starts and ends, and its changes become the scheduler's per-host limits.

use super::{Command, Machine};
use crate::core::adaptive::AdaptiveLimit;
use crate::core::scheduler::HostId;

impl Machine {
    /// A host opens an op: it gets its controller (when adaptive concurrency is on), and the
    /// scheduler its limit. A host that only `schedule` tasks name keeps the per-host limit:
    /// tasks give no samples, so a limit there could never rise.
    pub(super) fn adapt_host(&mut self, host: HostId) {
        let Some(bounds) = self.cfg.adaptive else { return };
        while self.adaptive.len() <= host as usize {
            self.adaptive.push(AdaptiveLimit::new(bounds));
        }
        let limit = self.adaptive[host as usize].limit();
        self.sched.set_host_limit(host, limit as usize);
    }

    /// `op`'s attempt was just dispatched.
    pub(super) fn adapt_dispatched(&mut self, now: f64, op: u32) {
        let Some(o) = self.ops.get_mut(op) else { return };
        let Some(a) = self.adaptive.get_mut(o.host as usize) else { return };
        a.dispatched(self.sched.host_active(o.host));
        o.dispatched_ms = now;
        o.epoch = a.epoch();
    }

    /// `op`'s attempt ended: answered, or refused (`overload`: 429, 503, timed out).
    pub(super) fn adapt_ended(&mut self, now: f64, op: u32, overload: bool) {
        let Some(o) = self.ops.get(op) else { return };
        let host = o.host;
        let Some(a) = self.adaptive.get_mut(host as usize) else { return };
        if let Some((limit, reason)) = a.sample(o.epoch, now - o.dispatched_ms, overload) {
            self.sched.set_host_limit(host, limit as usize);
            if self.listening {
                self.push(Command::Limit { host, limit, reason });
            }
        }
    }

    /// A host's limit by its id, as the scheduler holds it: its adaptive limit, or the
    /// per-host limit ([`crate::core::scheduler::UNLIMITED`] for none).
    pub fn host_limit(&self, host: HostId) -> usize {
        match self.sched.host_limit(host) {
            0 => self.cfg.per_host,
            n => n,
        }
    }

    /// Every host seen so far, with its limit (see [`host_limit`](Self::host_limit)).
    pub fn host_limits(&self) -> impl Iterator<Item = (&str, usize)> + '_ {
        self.sched
            .host_names()
            .enumerate()
            .map(|(i, name)| (name, self.host_limit(i as HostId)))
    }

    /// A host's name by its id (as [`Command::Limit`] carries it).
    pub fn host_name(&self, host: HostId) -> Option<&str> {
        self.sched.host_names().nth(host as usize)
    }
}
