//! Generated expressions: a seeded, deterministic generator over the grammar and library
//! gatehouse supports — integer/double/bool/string arithmetic, comparison, logic, conditionals,
//! concatenation, interpolation, casts, string methods, Math, LINQ over arrays and `context`
//! members. Each expression is typed as it is built, so what it makes compiles in C#: integer
//! magnitudes are tracked so nothing overflows 32 bits (gatehouse computes in 64), and divisors
//! are non-zero literals (C# rejects a division by constant zero).

/// splitmix64: small, seeded and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const STRINGS: &[&str] = &[
    "\"\"",
    "\"a\"",
    "\"abc\"",
    "\"Hello\"",
    "\"x-y\"",
    "\"  pad  \"",
    "\"A,B,c\"",
    "\"GET\"",
];
const DOUBLES: &[&str] = &["0.5", "1.25", "2.0", "0.1", "3.75", "10.0", "0.2"];
/// Integers bigger than this are not combined further (|value| ≤ 2^31 in C#).
const LIMIT: i64 = 1 << 30;

struct Gen {
    rng: Rng,
    lambdas: usize,
}

/// An integer expression and a bound on its magnitude.
struct IntExpr(String, i64);

/// An int array expression: its text, a bound on its elements, and whether it is non-empty.
struct ArrExpr(String, i64, bool);

impl Gen {
    fn var(&mut self) -> String {
        self.lambdas += 1;
        format!("v{}", self.lambdas)
    }

    fn int(&mut self, depth: u32) -> IntExpr {
        if depth == 0 {
            let v = self.rng.below(100) as i64;
            return IntExpr(v.to_string(), v);
        }
        let d = depth - 1;
        match self.rng.below(20) {
            16 => IntExpr(format!("{}.Split(',').Length", self.string(d)), 1 << 20),
            17 => IntExpr(format!("(int)Math.Pow(2, {})", self.rng.below(11)), 1 << 10),
            18 => {
                let a = self.int(d);
                IntExpr(format!("int.Parse(({}).ToString())", a.0), a.1)
            }
            19 => IntExpr(format!("{}.Length", self.strings(d)), 1 << 20),
            0 | 1 => {
                let (a, b) = (self.int(d), self.int(d));
                let op = self.rng.pick(&["+", "-"]);
                if a.1 + b.1 > LIMIT {
                    return a;
                }
                IntExpr(format!("({} {op} {})", a.0, b.0), a.1 + b.1)
            }
            2 => {
                let (a, b) = (self.int(d), self.int(d));
                if a.1.saturating_mul(b.1) > LIMIT {
                    return b;
                }
                IntExpr(format!("({} * {})", a.0, b.0), a.1 * b.1)
            }
            3 => {
                let a = self.int(d);
                let k = 1 + self.rng.below(9);
                let op = self.rng.pick(&["/", "%"]);
                IntExpr(format!("({} {op} {k})", a.0), a.1)
            }
            4 => {
                let c = self.boolean(d);
                let (a, b) = (self.int(d), self.int(d));
                IntExpr(format!("({} ? {} : {})", c, a.0, b.0), a.1.max(b.1))
            }
            5 => IntExpr(format!("{}.Length", self.string(d)), 1 << 20),
            6 => {
                let s = self.string(d);
                let needle = self.rng.pick(&["\"a\"", "\"-\"", "\"l\"", "\",\""]);
                IntExpr(format!("{s}.IndexOf({needle})"), 1 << 20)
            }
            7 => {
                let (a, b) = (self.int(d), self.int(d));
                let f = self.rng.pick(&["Math.Max", "Math.Min"]);
                IntExpr(format!("{f}({}, {})", a.0, b.0), a.1.max(b.1))
            }
            8 => {
                let a = self.int(d);
                IntExpr(format!("Math.Abs({})", a.0), a.1)
            }
            9 => {
                let a = self.array(d);
                IntExpr(format!("{}.Count()", a.0), 16)
            }
            10 => {
                let a = self.array(d);
                if a.1 * 8 > LIMIT {
                    return IntExpr("1".into(), 1);
                }
                IntExpr(format!("{}.Sum()", a.0), a.1 * 8)
            }
            11 => {
                let a = self.array(d);
                let v = self.var();
                let k = self.rng.below(50);
                IntExpr(format!("{}.Count({v} => {v} > {k})", a.0), 16)
            }
            12 => {
                let a = self.array(d);
                let f = self.rng.pick(&["First", "Last", "Max", "Min"]);
                IntExpr(format!("{}.{f}()", a.0), a.1)
            }
            13 => {
                let a = self.int(d);
                IntExpr(format!("-({})", a.0), a.1)
            }
            14 => IntExpr(
                "context.Variables.GetValueOrDefault<int>(\"count\", 0)".into(),
                3,
            ),
            _ => {
                let lit = self.rng.pick(DOUBLES);
                IntExpr(format!("(int){lit}"), 10)
            }
        }
    }

    fn double(&mut self, depth: u32) -> String {
        if depth == 0 {
            return self.rng.pick(DOUBLES).into();
        }
        let d = depth - 1;
        match self.rng.below(9) {
            0..=2 => {
                let op = self.rng.pick(&["+", "-", "*"]);
                format!("({} {op} {})", self.double(d), self.double(d))
            }
            3 => format!("({} / {})", self.double(d), 1 + self.rng.below(7)),
            4 => format!("(double){}", self.int(d).0),
            5 => format!("Math.Round({}, {})", self.double(d), self.rng.below(4)),
            6 => {
                let f = self.rng.pick(&["Math.Floor", "Math.Ceiling", "Math.Abs"]);
                format!("{f}({})", self.double(d))
            }
            7 => format!("{}.Average()", self.array(d).0),
            _ => format!("({} / 2.0)", self.int(d).0),
        }
    }

    fn boolean(&mut self, depth: u32) -> String {
        if depth == 0 {
            return self.rng.pick(&["true", "false"]).into();
        }
        let d = depth - 1;
        match self.rng.below(11) {
            0 | 1 => {
                let op = self.rng.pick(&["<", "<=", ">", ">=", "==", "!="]);
                format!("({} {op} {})", self.int(d).0, self.int(d).0)
            }
            2 => {
                let op = self.rng.pick(&["&&", "||"]);
                format!("({} {op} {})", self.boolean(d), self.boolean(d))
            }
            3 => format!("!{}", self.boolean(d)),
            4 => {
                let f = self.rng.pick(&["StartsWith", "EndsWith", "Contains"]);
                let arg = self.rng.pick(&["\"a\"", "\"H\"", "\"c\"", "\"\""]);
                format!("{}.{f}({arg})", self.string(d))
            }
            5 => format!("({} == {})", self.string(d), self.string(d)),
            6 => format!("string.IsNullOrEmpty({})", self.string(d)),
            7 => {
                let a = self.array(d);
                let v = self.var();
                format!("{}.Any({v} => {v} % 2 == 0)", a.0)
            }
            8 => format!("{}.Contains({})", self.array(d).0, self.rng.below(10)),
            9 => {
                let op = self.rng.pick(&["<", ">", "=="]);
                format!("({} {op} {})", self.double(d), self.double(d))
            }
            _ => "context.Variables.GetValueOrDefault<bool>(\"flag\", false)".into(),
        }
    }

    fn string(&mut self, depth: u32) -> String {
        if depth == 0 {
            return self.rng.pick(STRINGS).into();
        }
        let d = depth - 1;
        match self.rng.below(24) {
            17 => {
                let f = self.rng.pick(&["D3", "D1", "N0", "X", "x4"]);
                let a = self.int(d).0;
                // X on a negative int prints 32-bit two's complement; keep it non-negative.
                if f.starts_with(['X', 'x']) {
                    format!("Math.Abs({a}).ToString(\"{f}\")")
                } else {
                    format!("({a}).ToString(\"{f}\")")
                }
            }
            18 => {
                let f = self.rng.pick(&["F2", "F0", "N2", "0.00", "0.#"]);
                format!("({}).ToString(\"{f}\")", self.double(d))
            }
            19 => format!("$\"[{{{}:D2}}|{{{}:F1}}]\"", self.int(d).0, self.double(d)),
            20 => format!("string.Join(\"-\", {})", self.strings(d)),
            21 => {
                let s = self.string(d);
                let k = self.rng.below(5);
                format!("{s}.Substring(0, Math.Min({k}, {s}.Length))")
            }
            22 => format!("new string({}.Reverse().ToArray())", self.string(d)),
            23 => {
                let s = self.string(d);
                format!("({s}.Length > 0 ? {s}[0].ToString() : \"\")")
            }
            0 | 1 => format!("({} + {})", self.string(d), self.string(d)),
            2 => format!("({} + {})", self.string(d), self.int(d).0),
            3 => {
                let f = self.rng.pick(&[
                    "ToUpper",
                    "ToLower",
                    "Trim",
                    "ToUpperInvariant",
                    "ToLowerInvariant",
                    "TrimStart",
                    "TrimEnd",
                ]);
                format!("{}.{f}()", self.string(d))
            }
            4 => {
                let (a, b) = (
                    self.rng.pick(&["\"a\"", "\"-\"", "\"l\""]),
                    self.rng.pick(&["\"b\"", "\"\"", "\"__\""]),
                );
                format!("{}.Replace({a}, {b})", self.string(d))
            }
            5 => format!("{}.Substring({})", self.string(d), self.rng.below(4)),
            6 => format!("{}.PadLeft({})", self.string(d), self.rng.below(9)),
            7 => format!("({}).ToString()", self.int(d).0),
            8 => format!("$\"{{{}}}-{{{}}}\"", self.int(d).0, self.string(d)),
            9 => {
                let c = self.boolean(d);
                format!("({c} ? {} : {})", self.string(d), self.string(d))
            }
            10 => format!("string.Join(\",\", {})", self.array(d).0),
            11 => format!("string.Concat({}, {})", self.string(d), self.string(d)),
            12 => self
                .rng
                .pick(&[
                    "context.Request.Method",
                    "context.Api.Name",
                    "context.Request.Url.Host",
                    "context.Operation.UrlTemplate",
                    "context.Variables.GetValueOrDefault<string>(\"name\", \"\")",
                    "context.Request.Headers.GetValueOrDefault(\"Accept\", \"\")",
                ])
                .into(),
            13 => format!("({}).ToString()", self.double(d)),
            14 => format!("({}).ToString()", self.boolean(d)),
            15 => format!("string.Join(\"|\", {}.Split(','))", self.string(d)),
            _ => format!("({} + {})", self.string(d), self.double(d)),
        }
    }

    /// A `string[]` expression.
    fn strings(&mut self, depth: u32) -> String {
        let d = depth.saturating_sub(1);
        let s = self.string(d);
        let v = self.var();
        match self.rng.below(5) {
            0 => format!("{s}.Split(',')"),
            1 => format!("{s}.Split(',').Where({v} => {v}.Length > 0).ToArray()"),
            2 => format!("{s}.Split('-').Select({v} => {v}.Trim()).ToArray()"),
            3 => format!("{s}.Split(',').OrderBy({v} => {v}.Length).ToArray()"),
            _ => format!("new[] {{ {s}, {} }}", self.string(d)),
        }
    }

    fn array(&mut self, depth: u32) -> ArrExpr {
        if depth == 0 {
            let n = 1 + self.rng.below(5);
            let items: Vec<String> = (0..n).map(|_| self.rng.below(20).to_string()).collect();
            return ArrExpr(format!("new[] {{ {} }}", items.join(", ")), 20, true);
        }
        let d = depth - 1;
        let a = self.array(d);
        let v = self.var();
        match self.rng.below(7) {
            0 => ArrExpr(
                format!("{}.Where({v} => {v} % 2 == 0).ToArray()", a.0),
                a.1,
                false,
            ),
            1 if a.1 * 2 <= LIMIT => ArrExpr(
                format!("{}.Select({v} => {v} * 2).ToArray()", a.0),
                a.1 * 2,
                a.2,
            ),
            2 => ArrExpr(format!("{}.OrderBy({v} => -{v}).ToArray()", a.0), a.1, a.2),
            3 => ArrExpr(format!("{}.Reverse().ToArray()", a.0), a.1, a.2),
            4 => ArrExpr(format!("{}.Skip(1).ToArray()", a.0), a.1, false),
            5 => ArrExpr(format!("{}.Distinct().ToArray()", a.0), a.1, a.2),
            _ => ArrExpr(format!("{}.Take(2).ToArray()", a.0), a.1, a.2),
        }
    }
}

/// `count` expressions from `seed`, the same ones on every run.
pub fn expressions(seed: u64, count: usize) -> Vec<String> {
    let mut g = Gen {
        rng: Rng::new(seed),
        lambdas: 0,
    };
    (0..count)
        .map(|_| {
            g.lambdas = 0;
            let depth = 1 + g.rng.below(4) as u32;
            match g.rng.below(6) {
                0 => g.int(depth).0,
                1 => g.double(depth),
                2 => g.boolean(depth),
                3 => g.string(depth),
                4 => g.strings(depth),
                _ => g.array(depth).0,
            }
        })
        .collect()
}
