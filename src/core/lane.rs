//! Lanes: the three strict priority classes of queued work.

/// Where queued work waits. Lanes are strict: queued `Critical` work starts before any
/// `Normal` work, and `Background` work starts last. Inside a lane, work starts in the order
/// it was queued. The default lane is [`Lane::Normal`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Lane {
    /// Work the user is waiting for right now (above-the-fold data).
    Critical,
    /// Everything else. The default.
    #[default]
    Normal,
    /// Prefetches and analytics: runs only when nothing else is queued.
    Background,
}

impl Lane {
    /// All lanes, in the order they are served.
    pub const ALL: [Lane; 3] = [Lane::Critical, Lane::Normal, Lane::Background];

    /// The lane's position in [`Lane::ALL`].
    pub fn index(self) -> usize {
        match self {
            Lane::Critical => 0,
            Lane::Normal => 1,
            Lane::Background => 2,
        }
    }

    /// The lane's name as the JS API spells it: `critical`, `normal` or `background`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Critical => "critical",
            Lane::Normal => "normal",
            Lane::Background => "background",
        }
    }

    /// Parses the JS name of a lane; `None` for anything else.
    pub fn parse(name: &str) -> Option<Lane> {
        match name {
            "critical" => Some(Lane::Critical),
            "normal" => Some(Lane::Normal),
            "background" => Some(Lane::Background),
            _ => None,
        }
    }
}
