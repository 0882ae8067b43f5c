//! Adaptive concurrency in the machine: each host's [`AdaptiveLimit`] hears of every attempt
//! that starts and ends, and its changes become the scheduler's per-host limits.

use super::{Command, Machine};
use crate::core::adaptive::AdaptiveLimit;
use crate::core::scheduler::HostId;

impl Machine {
    /// The host's controller, made at `initial` the first time the host is seen.
    fn adaptive_mut(&mut self, host: HostId) -> Option<&mut AdaptiveLimit> {
        let bounds = self.cfg.adaptive?;
        let i = host as usize;
        while self.adaptive.len() <= i {
            self.adaptive.push(AdaptiveLimit::new(bounds));
            let h = (self.adaptive.len() - 1) as HostId;
            let limit = self.adaptive[h as usize].limit();
            self.sched.set_host_limit(h, limit as usize);
        }
        self.adaptive.get_mut(i)
    }

    /// `op`'s attempt was just dispatched.
    pub(super) fn adapt_dispatched(&mut self, now: f64, op: u32) {
        let Some(host) = self.ops.get(op).map(|o| o.host) else { return };
        let in_flight = self.sched.host_active(host);
        let Some(a) = self.adaptive_mut(host) else { return };
        a.dispatched(in_flight);
        let epoch = a.epoch();
        if let Some(o) = self.ops.get_mut(op) {
            o.dispatched_ms = now;
            o.epoch = epoch;
        }
    }

    /// `op`'s attempt ended: answered, or refused (`overload`: 429, 503, timed out).
    pub(super) fn adapt_ended(&mut self, now: f64, op: u32, overload: bool) {
        let Some((host, epoch, at)) = self.ops.get(op).map(|o| (o.host, o.epoch, o.dispatched_ms)) else {
            return;
        };
        let Some(a) = self.adaptive_mut(host) else { return };
        if let Some((limit, reason)) = a.sample(epoch, now - at, overload) {
            self.sched.set_host_limit(host, limit as usize);
            if self.listening {
                self.push(Command::Limit { host, limit, reason });
            }
        }
    }

    /// Every host seen so far, with its adaptive limit (0 when adaptive concurrency is off).
    pub fn host_limits(&self) -> impl Iterator<Item = (&str, u32)> + '_ {
        self.sched
            .host_names()
            .enumerate()
            .map(|(i, name)| (name, self.adaptive.get(i).map_or(0, AdaptiveLimit::limit)))
    }

    /// A host's name by its id (as [`Command::Limit`] carries it).
    pub fn host_name(&self, host: HostId) -> Option<&str> {
        self.sched.host_names().nth(host as usize)
    }
}
