//! System.Object's members on every value: `Equals(object)`, `GetHashCode()`, `ToString()`,
//! `GetType()`, `GetTypeCode()` (IConvertible's), and the statics every type inherits,
//! `T.ReferenceEquals(a, b)` and `T.Equals(a, b)` (`object.…` included).
//!
//! A type's own dispatcher answers first (`1.ToString("x")`, `uri.Equals(…)`, a JValue's
//! `Equals`); what it does not define ends here, as a .NET type inherits Object's member.
//! Checked against .NET's sources (Int32/Int64/Double/Char/Boolean/DateTime/TimeSpan/Guid
//! `GetHashCode`, `Object.Equals(object, object)`) and the C# oracle
//! (crates/expr/tests/oracle/expressions.txt, "// objects").
//!
//! Identity: most reference types are held behind an `Arc`, shared by every copy of the value,
//! so reference equality is `Arc::ptr_eq`. Arrays, lists and byte arrays are held by value (a
//! copy is a new array in this interpreter's model), so two of them are the same object only
//! when they are read from the same variable: the interpreter answers that case before the
//! library is asked (crates/expr/src/interp/calls.rs).

use super::*;

/// The source names of the types of APIM's surface that have no static member of their own
/// here, yet inherit Object's (`List<T>.ReferenceEquals(a, b)` is valid C#).
pub(crate) const OBJECT_TYPES: &[&str] = &[
    "object",
    "Extensions",
    "JConstructor",
    "JContainer",
    "JProperty",
    "JRaw",
    "JValue",
    "BitConverter",
    "Dictionary",
    "HashSet",
    "KeyValuePair",
    "List",
    "Queue",
    "Stack",
    "Exception",
    "StringReader",
    "StringWriter",
    "Nullable",
    "Match",
    "Random",
    "sbyte",
    "ushort",
    "uint",
    "ulong",
    "StringComparer",
    "StringBuilder",
    "Tuple",
    "AdjustmentRule",
    "TransitionTime",
    "XAttribute",
    "XCData",
    "XComment",
    "XContainer",
    "XDeclaration",
    "XDocumentType",
    "XNodeDocumentOrderComparer",
    "XNodeEqualityComparer",
    "XObject",
    "XProcessingInstruction",
    "XText",
];

/// The statics every type inherits from Object.
pub(crate) fn is_object_static(name: &str) -> bool {
    matches!(name, "ReferenceEquals" | "Equals")
}

/// `T.ReferenceEquals(a, b)` / `T.Equals(a, b)` for a type without a static of that name.
pub(crate) fn object_static(name: &str, args: &Args, at: usize) -> Option<F<Value>> {
    let [(_, a), (_, b)] = args.as_slice() else {
        return None;
    };
    let _ = at;
    match name {
        "ReferenceEquals" => Some(Ok(Value::Bool(reference_equals(a, b)))),
        "Equals" => Some(Ok(Value::Bool(static_equals(a, b)))),
        _ => None,
    }
}

/// The Object members the fallback answers, with the number of arguments each takes.
const OBJECT_METHODS: &[(&str, usize)] = &[
    ("Equals", 1),
    ("GetHashCode", 0),
    ("ToString", 0),
    ("GetType", 0),
    ("GetTypeCode", 0),
];

/// Whether `name` with `argc` arguments is one of Object's (or IConvertible's) instance
/// members, which every value has.
pub(crate) fn is_object_method(name: &str, argc: usize) -> bool {
    OBJECT_METHODS.contains(&(name, argc))
}

/// Object's member `name` on `t`, for a type whose own dispatcher does not define it.
pub(crate) fn object_method(
    it: &mut Interp,
    t: &Value,
    name: &str,
    args: &Args,
    at: usize,
) -> F<Value> {
    Ok(match name {
        // X509Certificate's overrides: equal when issuer and serial number are.
        "Equals" if matches!(t, Value::Object(Object::Crypto(crypto::Crypto::X509(_)))) => {
            let other = arg(args, 0, at)?;
            if !matches!(
                other,
                Value::Object(Object::Crypto(crypto::Crypto::X509(_)))
            ) {
                return Ok(Value::Bool(false));
            }
            let mut same = true;
            for m in ["Issuer", "SerialNumber"] {
                let mine = crypto::member(it, t, m, at).transpose()?;
                let theirs = crypto::member(it, other, m, at).transpose()?;
                same &= mine == theirs;
            }
            Value::Bool(same)
        }
        // ... and the hash: the first four bytes of its SHA-1 thumbprint.
        "GetHashCode" if matches!(t, Value::Object(Object::Crypto(crypto::Crypto::X509(_)))) => {
            let thumb = match crypto::member(it, t, "Thumbprint", at).transpose()? {
                Some(Value::String(s)) => s,
                _ => return Err(no_member(t, name, at)),
            };
            let mut h: u32 = 0;
            for k in 0..4 {
                let byte = thumb
                    .get(k * 2..k * 2 + 2)
                    .and_then(|b| u8::from_str_radix(b, 16).ok())
                    .unwrap_or(0);
                h = (h << 8) | u32::from(byte);
            }
            Value::Int(i64::from(h as i32))
        }
        "Equals" => Value::Bool(object_equals(t, arg(args, 0, at)?)),
        "GetHashCode" => Value::Int(hash_code(t) as i64),
        "ToString" => Value::str(it.text(t, at)?),
        "GetType" => Value::str(t.type_name()),
        "GetTypeCode" => match type_code(t).and_then(|c| enum_member("TypeCode", c)) {
            Some(c) => c,
            None => return Err(no_member(t, name, at)),
        },
        _ => return Err(no_member(t, name, at)),
    })
}

/// `IConvertible.GetTypeCode()`: the name of the `TypeCode` of the convertible types.
fn type_code(v: &Value) -> Option<&'static str> {
    Some(match v {
        Value::Bool(_) => "Boolean",
        Value::Char(_) => "Char",
        // Every numeric kind is its own type (crates/expr/src/numeric.rs), whose TypeCode has
        // the type's name.
        n if n.is_number() => n.type_name().trim_start_matches("System."),
        Value::String(_) => "String",
        Value::DateTime(_) => "DateTime",
        // An enum's is its underlying type's: Int32 for every enum here.
        Value::Enum(..) => "Int32",
        _ => return None,
    })
}

/// `a.Equals(b)` (Object's virtual, with the overrides of the types held here): value
/// equality for value types and strings (the same type and value: `1.Equals(1.0)` is false,
/// as the boxed double is not an Int32), reference identity for reference types that do not
/// override it.
pub(crate) fn object_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (_, Value::Null) => false,
        // Double.Equals(double): NaN equals NaN; an int argument converts to double first.
        (Value::Double(x), Value::Double(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::Double(x), Value::Int(y)) => *x == *y as f64,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Int(_), _) | (Value::Double(_), _) => false,
        (Value::Bool(_) | Value::Char(_) | Value::String(_) | Value::Enum(..), _) => a == b,
        (
            Value::DateTime(_) | Value::DateTimeOffset(_) | Value::TimeSpan(_) | Value::Guid(_),
            _,
        ) => a == b,
        // Identity is not held for these (see the module comment): distinct reads are
        // distinct arrays.
        (Value::Array(_) | Value::Bytes(_) | Value::Lambda(_), _) => false,
        (Value::Json(_), _) => values_equal(a, b),
        (Value::Object(x), Value::Object(y)) => object_identity_or_value(x, y),
        _ => false,
    }
}

/// Reference identity of two objects, or value equality for the objects whose .NET type
/// overrides `Equals` with it (KeyValuePair and value tuples are structs; Encoding, XName,
/// XNamespace, TimeZoneInfo, Uri and IPAddress compare their values).
fn object_identity_or_value(x: &Object, y: &Object) -> bool {
    use Object::*;
    match (x, y) {
        (Record(_) | Tuple(_) | Encoding(_) | XName(_) | XNamespace(_) | TimeZone(_), _)
        | (Comparer(_), _)
        | (Net(_), _) => x == y,
        _ => same_object(x, y),
    }
}

/// Whether two objects are one .NET object (`object.ReferenceEquals`).
fn same_object(x: &Object, y: &Object) -> bool {
    use Object::*;
    match (x, y) {
        (Context(a), Context(b)) => Arc::ptr_eq(a, b),
        (TimeZone(a), TimeZone(b)) => Arc::ptr_eq(a, b),
        (Record(a), Record(b)) | (Dictionary(a), Dictionary(b)) => Arc::ptr_eq(a, b),
        (Body(a), Body(b)) => Arc::ptr_eq(a, b),
        (Hasher(_, a), Hasher(_, b)) => Arc::ptr_eq(a, b),
        (Match(a), Match(b)) => Arc::ptr_eq(a, b),
        (Regex(a), Regex(b)) => Arc::ptr_eq(a, b),
        // Both compare by identity already.
        (Random(_), Random(_)) | (Crypto(_), Crypto(_)) => x == y,
        // The six comparers are singletons.
        (Comparer(a), Comparer(b)) => a == b,
        // The encodings are singletons (`Encoding.UTF8` is always the same object).
        (Encoding(a), Encoding(b)) => a == b,
        (XDocument(a), XDocument(b)) | (XElement(a), XElement(b)) => Arc::ptr_eq(a, b),
        (XAttribute(a), XAttribute(b)) => Arc::ptr_eq(a, b),
        // Names and namespaces are atomized: equal names are one object.
        (XName(_), XName(_)) | (XNamespace(_), XNamespace(_)) => x == y,
        (Exception(a), Exception(b)) => Arc::ptr_eq(a, b),
        (Tuple(a), Tuple(b)) => a.is_class() && Arc::ptr_eq(a, b),
        (Map(a), Map(b)) => Arc::ptr_eq(a, b),
        (Io(a), Io(b)) => Arc::ptr_eq(a, b),
        (XNode(a), XNode(b)) => Arc::ptr_eq(a, b),
        (Net(crate::library::net::Net::Uri(a)), Net(crate::library::net::Net::Uri(b))) => {
            Arc::ptr_eq(a, b)
        }
        _ => false,
    }
}

/// `object.ReferenceEquals(a, b)`: both null, or one object. A value type is boxed afresh for
/// each argument, so never; a string is one object when it is the same instance (the parser
/// holds each literal once, as the CLR interns them).
pub(crate) fn reference_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => Arc::ptr_eq(x, y),
        (Value::Object(x), Value::Object(y)) => same_object(x, y),
        (Value::Lambda(x), Value::Lambda(y)) => Arc::ptr_eq(x, y),
        // Tokens have identity (crates/expr/src/jtree.rs).
        (Value::Json(x), Value::Json(y)) => x.same(y),
        _ => false,
    }
}

/// `object.Equals(a, b)`: the same object, or both non-null and `a.Equals(b)`.
pub(crate) fn static_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        _ => reference_equals(a, b) || object_equals(a, b),
    }
}

/// `Int64.GetHashCode()`: the two halves folded.
fn fold64(v: i64) -> i32 {
    (v as i32) ^ ((v >> 32) as i32)
}

/// A stable hash of text. .NET randomises string hashes per process (Marvin with a random
/// seed), so no value is "the" .NET value: any hash that is the same for equal strings within
/// an evaluation is what .NET guarantees. FNV-1a over the UTF-16 code units.
fn text_hash(s: &str) -> i32 {
    let mut h: u32 = 0x811c_9dc5;
    for u in s.encode_utf16() {
        h = (h ^ u32::from(u)).wrapping_mul(0x0100_0193);
    }
    h as i32
}

/// `Double.GetHashCode()` as modern .NET computes it: both zeros and every NaN hash alike.
fn double_hash(d: f64) -> i32 {
    let mut bits = d.to_bits() as i64;
    if d.is_nan() || d == 0.0 {
        bits &= 0x7FF0_0000_0000_0000;
    }
    fold64(bits)
}

/// `GetHashCode()`: .NET's exact value where it is deterministic (the primitive value types,
/// DateTime, TimeSpan, Guid, JValue's wrapped value), otherwise a stable value consistent
/// with `Equals` (strings: see [`text_hash`]; reference types hash by identity, see
/// [`identity`]; where identity is not held, one value per type, which equal objects share).
pub(crate) fn hash_code(v: &Value) -> i32 {
    match v {
        Value::Null => 0,
        Value::Bool(b) => i32::from(*b),
        // Int32's hash is the value; a long outside Int32's range folds its halves.
        Value::Int(i) => match i32::try_from(*i) {
            Ok(x) => x,
            Err(_) => fold64(*i),
        },
        Value::Double(d) => double_hash(*d),
        // An enum hashes as its underlying Int32.
        Value::Enum(_, i) => *i as i32,
        Value::Char(c) => {
            let u = (*c as u32) & 0xFFFF;
            (u | (u << 16)) as i32
        }
        Value::String(s) => text_hash(s),
        Value::DateTime(d) => fold64(d.0),
        Value::DateTimeOffset(d) => fold64(d.utc.0),
        Value::TimeSpan(t) => fold64(t.0),
        Value::Guid(g) => {
            // The four Int32s of the Guid's memory layout (ToByteArray's order), xored.
            let b = g.to_be_bytes();
            let ints = [
                i32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                i32::from_le_bytes([b[5], b[4], b[7], b[6]]),
                i32::from_le_bytes([b[8], b[9], b[10], b[11]]),
                i32::from_le_bytes([b[12], b[13], b[14], b[15]]),
            ];
            ints.iter().fold(0, |h, x| h ^ x)
        }
        // JValue hashes the value it wraps (Newtonsoft keeps integers as Int64).
        Value::Json(j) => match j.scalar() {
            Some(J::Null) => 0,
            Some(J::Bool(b)) => i32::from(b),
            Some(J::Number(n)) => match n.as_i64() {
                Some(i) => fold64(i),
                None => double_hash(n.as_f64().unwrap_or(0.0)),
            },
            Some(J::String(s)) => text_hash(&s),
            _ => text_hash(v.type_name()),
        },
        // Structs with value equality: the hash follows the value.
        Value::Object(Object::Record(r)) => r.values().fold(text_hash(v.type_name()), |h, x| {
            h.rotate_left(5) ^ hash_code(x)
        }),
        Value::Object(Object::Tuple(t)) if t.kind == crate::tuple::TupleKind::Anonymous => {
            anonymous_hash(t)
        }
        Value::Object(Object::Tuple(t)) if t.is_class() => reference_tuple_hash(t),
        Value::Object(Object::Tuple(t)) => text_hash(&t.to_display()),
        Value::Object(Object::XName(n)) => text_hash(&n.expanded()),
        Value::Object(Object::XNamespace(ns)) => text_hash(ns),
        Value::Object(Object::Net(n)) => text_hash(&n.display()),
        // TimeZoneInfo compares ids ignoring case.
        Value::Object(Object::TimeZone(z)) => text_hash(&z.id.to_uppercase()),
        Value::Object(o) => match identity(o) {
            Some(address) => fold64(address as i64),
            None => text_hash(v.type_name()),
        },
        _ => text_hash(v.type_name()),
    }
}

/// Where a shared object lives, for an identity hash: distinct objects hash apart, as .NET's
/// `RuntimeHelpers.GetHashCode` makes them, and one object hashes alike for as long as it
/// lives (an evaluation). `None` for objects not held behind one allocation.
fn identity(o: &Object) -> Option<usize> {
    use crate::library::crypto::Crypto;
    Some(match o {
        Object::Hasher(_, k) => Arc::as_ptr(k) as *const u8 as usize,
        Object::Match(m) => Arc::as_ptr(m) as usize,
        Object::Regex(r) => Arc::as_ptr(r) as usize,
        Object::Exception(e) => Arc::as_ptr(e) as usize,
        Object::Io(io) => Arc::as_ptr(io) as usize,
        Object::Map(m) => Arc::as_ptr(m) as usize,
        Object::XDocument(e) | Object::XElement(e) => Arc::as_ptr(e) as usize,
        Object::XAttribute(a) => Arc::as_ptr(a) as usize,
        Object::XNode(n) => Arc::as_ptr(n) as usize,
        Object::Crypto(Crypto::Rsa(r)) => Arc::as_ptr(r) as usize,
        Object::Crypto(Crypto::Symmetric(s)) => Arc::as_ptr(s) as usize,
        Object::Crypto(Crypto::Transform(t)) => Arc::as_ptr(t) as usize,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitive_hashes_are_dotnets() {
        assert_eq!(hash_code(&Value::Int(-5)), -5);
        // (long)5_000_000_000: 0x1_2A05_F200 → 0x2A05F200 ^ 1.
        assert_eq!(hash_code(&Value::Int(5_000_000_000)), 0x2A05_F201);
        assert_eq!(hash_code(&Value::Char('a')), 0x0061_0061);
        assert_eq!(hash_code(&Value::Bool(true)), 1);
        assert_eq!(hash_code(&Value::Double(1.0)), 0x3FF0_0000);
        assert_eq!(hash_code(&Value::Double(-0.0)), 0);
        assert_eq!(hash_code(&Value::Double(f64::NAN)), 0x7FF0_0000);
    }
}
