//! `System.Random`. A seeded `new Random(seed)` gives .NET's exact sequence: Knuth's subtractive
//! generator as .NET Framework implements it, which modern .NET keeps for seeded instances
//! (its `Net5CompatSeedImpl`). `new Random()` seeds the same generator from the OS.

use std::sync::{Arc, Mutex};

use super::*;

const MBIG: i32 = i32::MAX;
const MSEED: i32 = 161_803_398;

#[derive(Debug)]
struct Knuth {
    seeds: [i32; 56],
    inext: usize,
    inextp: usize,
}

impl Knuth {
    fn new(seed: i32) -> Knuth {
        let mut seeds = [0i32; 56];
        let sub = if seed == i32::MIN {
            i32::MAX
        } else {
            seed.abs()
        };
        let mut mj = MSEED.wrapping_sub(sub);
        seeds[55] = mj;
        let mut mk = 1i32;
        for i in 1..55 {
            let ii = (21 * i) % 55;
            seeds[ii] = mk;
            mk = mj.wrapping_sub(mk);
            if mk < 0 {
                mk = mk.wrapping_add(MBIG);
            }
            mj = seeds[ii];
        }
        for _ in 1..5 {
            for i in 1..56 {
                seeds[i] = seeds[i].wrapping_sub(seeds[1 + (i + 30) % 55]);
                if seeds[i] < 0 {
                    seeds[i] = seeds[i].wrapping_add(MBIG);
                }
            }
        }
        Knuth {
            seeds,
            inext: 0,
            inextp: 21,
        }
    }

    fn internal_sample(&mut self) -> i32 {
        self.inext = if self.inext + 1 >= 56 {
            1
        } else {
            self.inext + 1
        };
        self.inextp = if self.inextp + 1 >= 56 {
            1
        } else {
            self.inextp + 1
        };
        let mut r = self.seeds[self.inext].wrapping_sub(self.seeds[self.inextp]);
        if r == MBIG {
            r -= 1;
        }
        if r < 0 {
            r = r.wrapping_add(MBIG);
        }
        self.seeds[self.inext] = r;
        r
    }

    fn sample(&mut self) -> f64 {
        self.internal_sample() as f64 * (1.0 / MBIG as f64)
    }

    /// .NET's sample for a range wider than int: two draws make one.
    fn large_range_sample(&mut self) -> f64 {
        let mut r = self.internal_sample();
        if self.internal_sample() % 2 == 0 {
            r = -r;
        }
        (r as f64 + (i32::MAX as f64 - 1.0)) / (2.0 * i32::MAX as f64 - 1.0)
    }
}

/// A `Random` instance: shared state, so that `r.Next()` advances every copy of `r`, as a
/// reference type does in C#.
#[derive(Debug, Clone)]
pub struct SeededRandom(Arc<Mutex<Knuth>>);

impl PartialEq for SeededRandom {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The state's size, for the memory budget.
pub(crate) const RANDOM_BYTES: usize = std::mem::size_of::<Knuth>();

/// `new Random()` / `new Random(seed)`.
pub(super) fn new_random(seed: Option<&Value>, at: usize) -> F<Value> {
    let seed = match seed {
        Some(v) => as_int(v, at)? as i32,
        None => (uuid::Uuid::new_v4().as_u128() as u32 & 0x7fff_ffff) as i32,
    };
    Ok(Value::Object(Object::Random(SeededRandom(Arc::new(
        Mutex::new(Knuth::new(seed)),
    )))))
}

/// `Next()`, `Next(max)`, `Next(min, max)`, `NextDouble()`, `NextBytes(n)` is not here: it fills
/// its argument.
pub(super) fn random_method(
    r: &SeededRandom,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Option<Value>> {
    let mut k = r.0.lock().unwrap_or_else(|p| p.into_inner());
    let int = |i: usize| as_int(arg(args, i, at)?, at);
    Ok(Some(match (name, args.len()) {
        ("Next", 0) => Value::Int(k.internal_sample() as i64),
        ("Next", 1) => {
            let max = int(0)?;
            if max < 0 {
                return Err(arg_range(
                    "'maxValue' must be greater than or equal to zero. (Parameter 'maxValue')",
                    at,
                ));
            }
            Value::Int((k.sample() * max as f64) as i64)
        }
        ("Next", 2) => {
            let (min, max) = (int(0)?, int(1)?);
            if min > max {
                return Err(arg_range(
                    "'minValue' cannot be greater than maxValue. (Parameter 'minValue')",
                    at,
                ));
            }
            let range = max - min;
            Value::Int(if range <= i32::MAX as i64 {
                (k.sample() * range as f64) as i64 + min
            } else {
                (k.large_range_sample() * range as f64) as i64 + min
            })
        }
        ("NextDouble", 0) => Value::Double(k.sample()),
        _ => return Ok(None),
    }))
}

/// `r.NextBytes(buffer)`: one draw per byte, its low byte, as .NET's seeded generator
/// (Net5CompatSeedImpl) fills a buffer.
pub(super) fn next_bytes(r: &SeededRandom, len: usize) -> Vec<u8> {
    let mut k = r.0.lock().unwrap_or_else(|p| p.into_inner());
    (0..len).map(|_| k.internal_sample() as u8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_sequence_is_dotnets() {
        // What `new Random(42)` gives in .NET (Framework and modern): Next() x3.
        let mut k = Knuth::new(42);
        assert_eq!(
            [
                k.internal_sample(),
                k.internal_sample(),
                k.internal_sample()
            ],
            [1434747710, 302596119, 269548474]
        );
    }
}
