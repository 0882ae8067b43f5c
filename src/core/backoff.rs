//! Exponential backoff between retries, with optional "full jitter".
//!
//! Full jitter (a uniformly random delay between zero and the exponential ceiling) spreads the
//! retries of many clients that failed together, so they do not hammer a recovering server in
//! lock-step.

/// Exponential backoff with optional full jitter (AWS "full jitter").
///
/// The delay before retry `n` (0 for the first retry) is capped at
/// `min(max_ms, base_ms * factor^n)`; with jitter it is a uniformly random fraction of that cap.
/// The default is 300 ms, doubling, capped at 10 000 ms, with jitter.
#[derive(Clone, Debug, PartialEq)]
pub struct Backoff {
    /// The ceiling for the first retry, in ms. Default 300. Negative or NaN counts as 0.
    pub base_ms: f64,
    /// How much the ceiling grows with each retry. Default 2. Below 1 or NaN counts as 1.
    pub factor: f64,
    /// The largest ceiling, in ms. Default 10 000. Negative or NaN counts as 0.
    pub max_ms: f64,
    /// Whether to pick a random delay in `[0, ceiling)` instead of the ceiling itself.
    /// Default `true`.
    pub jitter: bool,
}

impl Default for Backoff {
    /// 300 ms base, factor 2, capped at 10 000 ms, with full jitter.
    fn default() -> Self {
        Backoff {
            base_ms: 300.0,
            factor: 2.0,
            max_ms: 10_000.0,
            jitter: true,
        }
    }
}

/// Maps NaN and negatives to 0 and +inf to `f64::MAX`, so the result is always finite.
fn finite_non_negative(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        0.0
    } else {
        x.min(f64::MAX)
    }
}

impl Backoff {
    /// The cap for retry number `retry` (0 for the first retry):
    /// `min(max_ms, base_ms * factor^retry)`.
    ///
    /// Always finite and never negative, even for a huge `retry` or nonsensical fields.
    pub fn ceiling_ms(&self, retry: u32) -> f64 {
        let base = finite_non_negative(self.base_ms);
        let max = finite_non_negative(self.max_ms);
        // A zero base times an overflowed power would be 0 * inf = NaN.
        if base == 0.0 || max == 0.0 {
            return 0.0;
        }
        // A factor below 1 would shrink delays (or flip their sign), which no caller wants.
        let factor = if self.factor >= 1.0 { self.factor } else { 1.0 };
        // base > 0 and power >= 1, so the product is positive (possibly inf) and `min` tames it.
        let ceiling = base * power(factor, retry);
        if ceiling.is_nan() {
            max
        } else {
            ceiling.min(max)
        }
    }

    /// The delay before retry number `retry` (0 for the first retry), in ms.
    ///
    /// With `jitter`, `random * ceiling_ms(retry)` where `random` is in `[0, 1)` (values outside
    /// are clamped into `[0, 1]`, NaN counts as 0); without, `ceiling_ms(retry)`.
    pub fn delay_ms(&self, retry: u32, random: f64) -> f64 {
        let ceiling = self.ceiling_ms(retry);
        if !self.jitter {
            return ceiling;
        }
        let r = if random.is_nan() {
            0.0
        } else {
            random.clamp(0.0, 1.0)
        };
        r * ceiling
    }
}

/// `x^n` by repeated squaring, as LLVM's `powi` computes it; core has no `powi` without std.
/// For `x >= 1` it only grows, reaching infinity rather than NaN.
pub(crate) fn power(mut x: f64, mut n: u32) -> f64 {
    let mut result = 1.0;
    while n > 0 {
        if n & 1 == 1 {
            result *= x;
        }
        x *= x;
        n >>= 1;
    }
    result
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::RngSeed;

    fn no_jitter() -> Backoff {
        Backoff {
            jitter: false,
            ..Backoff::default()
        }
    }

    #[test]
    fn power_is_powi() {
        assert_eq!(power(2.0, 10), 1024.0);
        assert_eq!(power(1.5, 0), 1.0);
        assert_eq!(power(10.0, 400), f64::INFINITY);
        assert_eq!(power(1.0, u32::MAX), 1.0);
        // The same multiplications in the same order as LLVM's powi, so bit for bit equal.
        for x in [1.0, 1.000_001, 1.1, 1.5, 2.0, 3.7, 10.0] {
            for n in [1u32, 2, 3, 7, 31, 64, 100, 1023] {
                assert_eq!(power(x, n).to_bits(), x.powi(n as i32).to_bits(), "{x}^{n}");
            }
        }
    }

    #[test]
    fn defaults() {
        let b = Backoff::default();
        assert_eq!(b.base_ms, 300.0);
        assert_eq!(b.factor, 2.0);
        assert_eq!(b.max_ms, 10_000.0);
        assert!(b.jitter);
    }

    #[test]
    fn exact_values_without_jitter() {
        let b = no_jitter();
        let expected = [
            300.0, 600.0, 1200.0, 2400.0, 4800.0, 9600.0, 10_000.0, 10_000.0,
        ];
        for (retry, want) in expected.iter().enumerate() {
            assert_eq!(b.delay_ms(retry as u32, 0.5), *want, "retry {retry}");
            assert_eq!(b.ceiling_ms(retry as u32), *want, "retry {retry}");
        }
        assert_eq!(b.delay_ms(u32::MAX, 0.5), 10_000.0);
    }

    #[test]
    fn jitter_scales_the_ceiling() {
        let b = Backoff::default();
        assert_eq!(b.delay_ms(0, 0.0), 0.0);
        assert_eq!(b.delay_ms(0, 0.5), 150.0);
        assert_eq!(b.delay_ms(2, 0.25), 300.0);
        assert!(b.delay_ms(40, 0.999_999) < 10_000.0);
    }

    #[test]
    fn huge_retries_and_odd_fields_stay_finite() {
        let cases = [
            Backoff {
                base_ms: 0.0,
                factor: 10.0,
                max_ms: 1e7,
                jitter: false,
            },
            Backoff {
                base_ms: 1e6,
                factor: 10.0,
                max_ms: f64::INFINITY,
                jitter: false,
            },
            Backoff {
                base_ms: f64::NAN,
                factor: f64::NAN,
                max_ms: f64::NAN,
                jitter: true,
            },
            Backoff {
                base_ms: -5.0,
                factor: -2.0,
                max_ms: -1.0,
                jitter: false,
            },
            Backoff {
                base_ms: f64::INFINITY,
                factor: f64::INFINITY,
                max_ms: 500.0,
                jitter: false,
            },
            Backoff {
                base_ms: 100.0,
                factor: 0.5,
                max_ms: 500.0,
                jitter: false,
            },
        ];
        for b in &cases {
            for retry in [0, 1, 63, 1024, i32::MAX as u32, u32::MAX] {
                for random in [0.0, 0.5, 0.999, f64::NAN, -1.0, 2.0] {
                    let d = b.delay_ms(retry, random);
                    assert!(d.is_finite() && d >= 0.0, "{b:?} retry {retry} -> {d}");
                }
            }
        }
        assert_eq!(cases[0].ceiling_ms(u32::MAX), 0.0);
        assert_eq!(cases[1].ceiling_ms(u32::MAX), f64::MAX);
        assert_eq!(cases[4].ceiling_ms(3), 500.0);
        // A shrinking factor is treated as constant.
        assert_eq!(cases[5].ceiling_ms(3), 100.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            rng_seed: RngSeed::Fixed(0xBAC0FF),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn delay_within_bounds(
            base in 0.0f64..=1e6,
            factor in 1.0f64..=10.0,
            max in 0.0f64..=1e7,
            retry in 0u32..64,
            random in 0.0f64..1.0,
            jitter in any::<bool>(),
        ) {
            let b = Backoff { base_ms: base, factor, max_ms: max, jitter };
            let d = b.delay_ms(retry, random);
            let bound = max.min(base * factor.powi(retry as i32));
            prop_assert!(d.is_finite());
            prop_assert!(d >= 0.0);
            prop_assert!(d <= bound, "delay {} > bound {}", d, bound);
        }
    }
}
