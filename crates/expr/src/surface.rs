//! Which members of APIM's documented .NET surface gatehouse implements, for the generated
//! table of docs/policies.md ("Expressions: .NET surface", built by crates/expr/tests/surface.rs
//! from crates/expr/tests/oracle/dotnet-members.txt).
//!
//! The answer comes from the same places `policy check` and the interpreter use, so members
//! added to the library show up without editing this file:
//! - static members: [`features::static_member_exists`] (what the scan reports as unsupported);
//! - string instance methods and LINQ: [`features::STRING_METHODS`] and [`features::LINQ`];
//! - every other instance member and constructor: the interpreter itself, asked with a probe
//!   (`<sample>.Member`, `<sample>.Member()`, `new T()`) that counts as supported unless it
//!   fails because the member or type is unknown (RuntimeBinderException, NotSupportedException,
//!   CompilationError). A probe shows that the interpreter dispatches the member, not that its
//!   results are right: that is the C# oracle's job (crates/expr/tests/oracle.rs).

use crate::context::MapContext;
use crate::features;
use crate::{ExprKind, eval, parse};

/// The kind of a member, as scripts/dotnet-surface.sh writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    Method,
    Property,
    Field,
    Constructor,
    Event,
}

impl MemberKind {
    pub fn parse(s: &str) -> Option<MemberKind> {
        Some(match s {
            "method" => MemberKind::Method,
            "property" => MemberKind::Property,
            "field" => MemberKind::Field,
            "constructor" => MemberKind::Constructor,
            "event" => MemberKind::Event,
            _ => return None,
        })
    }
}

/// The name C# source uses for a .NET type: keywords for the built-in types, otherwise the
/// simple name without namespace, generic arity or enclosing type.
pub fn source_name(dotnet: &str) -> &str {
    match dotnet {
        "System.String" => "string",
        "System.Int32" => "int",
        "System.Int64" => "long",
        "System.Int16" => "short",
        "System.Byte" => "byte",
        "System.SByte" => "sbyte",
        "System.UInt16" => "ushort",
        "System.UInt32" => "uint",
        "System.UInt64" => "ulong",
        "System.Double" => "double",
        "System.Single" => "float",
        "System.Decimal" => "decimal",
        "System.Boolean" => "bool",
        "System.Char" => "char",
        other => {
            let simple = other.rsplit(['.', '+']).next().unwrap_or(other);
            simple.split('`').next().unwrap_or(simple)
        }
    }
}

/// `new T()` for a type, with placeholder type arguments for generic ones (`List`1`).
fn constructor_probe(dotnet: &str) -> String {
    let name = source_name(dotnet);
    match dotnet
        .rsplit('`')
        .next()
        .and_then(|n| n.parse::<usize>().ok())
    {
        Some(arity) if dotnet.contains('`') => {
            format!("new {name}<{}>()", vec!["string"; arity].join(", "))
        }
        // C#'s string has no parameterless constructor.
        _ if name == "string" => "new string('a', 1)".to_string(),
        _ => format!("new {name}()"),
    }
}

/// A certificate to probe `X509Certificate2`'s members on: the DER of the crypto tests
/// (crates/expr/tests/crypto/cert.b64, one base64 line), loaded as a script would load one.
const CERT: &str = concat!(
    "new X509Certificate2(Convert.FromBase64String(\"",
    include_str!("../tests/crypto/cert.b64"),
    "\"))"
);

/// A certificate's public key, probed for `PublicKey`'s members.
const CERT_PUBLIC_KEY: &str = concat!(
    "new X509Certificate2(Convert.FromBase64String(\"",
    include_str!("../tests/crypto/cert.b64"),
    "\")).PublicKey"
);

/// A certificate's subject name, probed for `X500DistinguishedName`'s members.
const CERT_SUBJECT_NAME: &str = concat!(
    "new X509Certificate2(Convert.FromBase64String(\"",
    include_str!("../tests/crypto/cert.b64"),
    "\")).SubjectName"
);

/// An expression that makes an instance of the type, for probing its instance members.
fn sample(dotnet: &str) -> Option<&'static str> {
    let short = dotnet.rsplit('.').next().unwrap_or(dotnet);
    if let Some(s) = crate::library::enum_sample(dotnet) {
        return Some(s);
    }
    Some(match short {
        "X509Certificate" | "X509Certificate2" => CERT,
        "PublicKey" => CERT_PUBLIC_KEY,
        "X500DistinguishedName" => CERT_SUBJECT_NAME,
        "JArray" => r#"JArray.Parse("[1,2]")"#,
        "JObject" | "JContainer" => r#"JObject.Parse("{\"a\":1}")"#,
        "JToken" => r#"JToken.Parse("{\"a\":1}")"#,
        "JValue" => r#"JToken.Parse("1")"#,
        "JProperty" => r#"JObject.Parse("{\"a\":1}").Properties().First()"#,
        "JRaw" => r#"new JRaw("1")"#,
        "JConstructor" => r#"new JConstructor("f")"#,
        "Extensions" if dotnet.starts_with("Newtonsoft") => r#"JArray.Parse("[1,2]")"#,
        "Extensions" => r#"XElement.Parse("<a><b/></a>").Elements()"#,
        "Array" => "new[] { 1, 2 }",
        "Boolean" => "true",
        "Byte" => "(byte)1",
        "SByte" => "(sbyte)1",
        "Char" => "'a'",
        "Int16" => "(short)1",
        "Int32" => "1",
        "Int64" => "1L",
        "UInt16" => "(ushort)1",
        "UInt32" => "1u",
        "UInt64" => "1ul",
        "Double" => "1.5",
        "Single" => "1.5f",
        "Decimal" => "1.5m",
        "String" => r#""abc""#,
        "Dictionary`2" | "IDictionary`2" | "IReadOnlyDictionary`2" => {
            r#"new Dictionary<string, string> { { "a", "b" } }"#
        }
        "List`1" | "IList`1" | "ICollection`1" | "IReadOnlyCollection`1" | "IEnumerable`1" => {
            "new List<int> { 1, 2 }"
        }
        "HashSet`1" | "ISet`1" => "new HashSet<int> { 1 }",
        "KeyValuePair`2" => r#"new Dictionary<string, int> { { "a", 1 } }.First()"#,
        "Queue`1" => "new Queue<int>()",
        "Stack`1" => "new Stack<int>()",
        "IEnumerator`1" => "new List<int> { 1 }.GetEnumerator()",
        "DateTime" => "new DateTime(2024, 1, 2, 3, 4, 5)",
        "DateTimeOffset" => "DateTimeOffset.FromUnixTimeSeconds(0)",
        "TimeSpan" => "TimeSpan.FromSeconds(1)",
        "Guid" => "Guid.Empty",
        "Exception" => r#"new Exception("m")"#,
        "StringReader" => r#"new StringReader("a")"#,
        "StringWriter" => "new StringWriter()",
        "IPAddress" => r#"IPAddress.Parse("10.0.0.1")"#,
        "Random" => "new Random(1)",
        "HashAlgorithm" | "SHA256" => "SHA256.Create()",
        "MD5" => "MD5.Create()",
        "SHA1" => "SHA1.Create()",
        "SHA384" => "SHA384.Create()",
        "SHA512" => "SHA512.Create()",
        "SHA1Managed" => "new SHA1Managed()",
        "SHA256Managed" => "new SHA256Managed()",
        "SHA384Managed" => "new SHA384Managed()",
        "SHA512Managed" => "new SHA512Managed()",
        "HMAC" | "KeyedHashAlgorithm" | "HMACSHA256" => "new HMACSHA256(new byte[] { 1 })",
        "HMACMD5" => "new HMACMD5(new byte[] { 1 })",
        "HMACSHA1" => "new HMACSHA1(new byte[] { 1 })",
        "HMACSHA384" => "new HMACSHA384(new byte[] { 1 })",
        "HMACSHA512" => "new HMACSHA512(new byte[] { 1 })",
        "RSA" | "AsymmetricAlgorithm" => "RSA.Create()",
        "SymmetricAlgorithm" => "Aes.Create()",
        "Oid" => r#"new Oid("1.2.840.113549.1.1.1")"#,
        "HashAlgorithmName" => "HashAlgorithmName.SHA256",
        "RSAEncryptionPadding" => "RSAEncryptionPadding.OaepSHA256",
        "RSASignaturePadding" => "RSASignaturePadding.Pkcs1",
        "RNGCryptoServiceProvider" => "new RNGCryptoServiceProvider()",
        "StringComparer" => "StringComparer.Ordinal",
        "Tuple" => r#"Tuple.Create(1, "a")"#,
        "Encoding" => "Encoding.UTF8",
        "Capture" | "Match" => r#"Regex.Match("a1", "[0-9]")"#,
        "Group" => r#"Regex.Match("a1", "([0-9])").Groups[1]"#,
        "GroupCollection" => r#"Regex.Match("a1", "([0-9])").Groups"#,
        "CaptureCollection" => r#"Regex.Match("a1", "([0-9])").Captures"#,
        "Regex" => r#"new Regex("a")"#,
        "StringBuilder" => r#"new StringBuilder("a")"#,
        "TimeZoneInfo" => "TimeZoneInfo.Utc",
        "TimeZone" => "TimeZone.CurrentTimeZone",
        "Uri" => r#"new Uri("https://a.example/p?q=1")"#,
        "XAttribute" => r#"new XAttribute("a", "1")"#,
        "XCData" => r#"new XCData("x")"#,
        "XComment" => r#"new XComment("x")"#,
        "XContainer" | "XElement" | "XNode" | "XObject" => {
            r#"XElement.Parse("<a x=\"1\"><b/></a>")"#
        }
        "XDeclaration" => r#"new XDeclaration("1.0", null, null)"#,
        "XDocument" => r#"XDocument.Parse("<a/>")"#,
        "XDocumentType" => r#"new XDocumentType("a", null, null, null)"#,
        "XName" => r#"XName.Get("a")"#,
        "XNamespace" => r#"XNamespace.Get("urn:a")"#,
        "XProcessingInstruction" => r#"new XProcessingInstruction("t", "d")"#,
        "XText" => r#"new XText("t")"#,
        "XNodeDocumentOrderComparer" => "XNode.DocumentOrderComparer",
        "XNodeEqualityComparer" => "XNode.EqualityComparer",
        "XmlReader" => r#"XmlReader.Create(new StringReader("<a/>"))"#,
        "TimeZoneInfo+TransitionTime" => {
            "TransitionTime.CreateFixedDateRule(new DateTime(1, 1, 1, 2, 0, 0), 3, 10)"
        }
        "TimeZoneInfo+AdjustmentRule" => {
            "AdjustmentRule.CreateAdjustmentRule(new DateTime(2024, 1, 1), new DateTime(2024, 12, 31), TimeSpan.FromHours(1), TransitionTime.CreateFloatingDateRule(new DateTime(1, 1, 1, 2, 0, 0), 3, 5, DayOfWeek.Sunday), TransitionTime.CreateFloatingDateRule(new DateTime(1, 1, 1, 3, 0, 0), 10, 5, DayOfWeek.Sunday))"
        }
        "StringComparison" => "StringComparison.Ordinal",
        "StringSplitOptions" => "StringSplitOptions.None",
        "RegexOptions" => "RegexOptions.None",
        "Formatting" => "Formatting.None",
        _ => return None,
    })
}

/// Whether the interpreter runs `source` as far as dispatching it: it parses, and running it
/// does not fail for want of the member or type.
pub fn probe_runs(source: &str) -> bool {
    probe_error(source).is_none_or(|kind| {
        !matches!(
            kind,
            "RuntimeBinderException" | "NotSupportedException" | "CompilationError"
        )
    })
}

/// Members .NET 8 itself implements by throwing NotSupportedException ("Method not
/// supported."), so that a probe getting it has reached the member: RSA's raw
/// `EncryptValue`/`DecryptValue` (dotnet/runtime RSA.cs).
const THROWS_BY_DESIGN: &[(&str, &str)] = &[
    ("System.Security.Cryptography.RSA", "EncryptValue"),
    ("System.Security.Cryptography.RSA", "DecryptValue"),
];

/// `None` when `source` parses and runs; else the kind of the error (CompilationError when it
/// does not parse).
fn probe_error(source: &str) -> Option<&'static str> {
    // `{ … }` is a block probe (the body of `@{ … }`).
    let (source, kind) = match source.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        Some(body) => (body, ExprKind::Block),
        None => (source, ExprKind::Single),
    };
    let Ok(program) = parse(source, kind) else {
        return Some("CompilationError");
    };
    eval(&program, &mut MapContext::new()).err().map(|e| e.kind)
}

/// Arguments a method probe is tried with: a member the interpreter dispatches only with the
/// right shape of arguments (`TryParse`'s `out`, `Array.Copy`'s destination) still shows.
const ARGUMENTS: &[&str] = &[
    "()",
    r#"("1")"#,
    "(1)",
    r#"("a", "b")"#,
    "(1, 2)",
    r#"("1", out var v)"#,
    // `TryPop(out v)`, `TryDequeue(out v)`: an out argument alone.
    "(out var v)",
    // `Deconstruct(out k, out v)`.
    "(out var a, out var b)",
    "(new[] { 1 }, new int[1], 1)",
];

/// Extension methods (`System.Xml.Linq.Extensions`, Newtonsoft's) are called as methods of the
/// sequence they extend: they are probed on the sample as instance methods.
fn is_extension(dotnet: &str, member: &str, kind: MemberKind) -> bool {
    source_name(dotnet) == "Extensions"
        && kind == MemberKind::Method
        && !matches!(member, "Equals" | "ReferenceEquals")
}

/// The expressions that probe a member: `T.M` / `T.M(…)` for static members, `<sample>.M` /
/// `<sample>.M(…)` for instance members, `new T()` for constructors (empty when there is no
/// way to make an instance). The member counts as run when any of them runs.
pub fn probes(dotnet: &str, member: &str, kind: MemberKind, is_static: bool) -> Vec<String> {
    let is_static = is_static && !is_extension(dotnet, member, kind);
    if kind == MemberKind::Constructor {
        return vec![constructor_probe(dotnet)];
    }
    let recv = if is_static {
        source_name(dotnet).to_string()
    } else {
        match sample(dotnet) {
            Some(s) => format!("({s})"),
            None => return Vec::new(),
        }
    };
    match (kind, member) {
        // An event can only be subscribed to (or unsubscribed from) in C#: the probe adds a
        // handler, which counts when the interpreter accepts it.
        (MemberKind::Event, _) => vec![format!(
            "{{ var s = {recv}; s.{member} += (o, e) => {{ }}; return 1; }}"
        )],
        (_, "Item" | "Chars") if dotnet.contains("Dictionary") => vec![format!(r#"{recv}["a"]"#)],
        (_, "Item" | "Chars") => vec![format!("{recv}[0]")],
        (MemberKind::Method, _) => {
            let mut v: Vec<String> = ARGUMENTS
                .iter()
                .map(|a| format!("{recv}.{member}{a}"))
                .collect();
            // A method that writes into its argument (`Array.Copy`) needs a local there.
            v.push(format!(
                "{{ var d = new int[1]; {recv}.{member}(new[] {{ 1 }}, d, 1); return d; }}"
            ));
            v
        }
        _ => vec![format!("{recv}.{member}")],
    }
}

/// Whether gatehouse implements `member` of the .NET type `dotnet` (full name, as
/// scripts/dotnet-surface.sh lists it).
pub fn supported(dotnet: &str, member: &str, kind: MemberKind, is_static: bool) -> bool {
    let name = source_name(dotnet);
    if name == "Enumerable" {
        return features::LINQ.contains(&member)
            || features::static_member_exists(name, member, true);
    }
    // Extension methods (`System.Xml.Linq.Extensions`, Newtonsoft's) are called as methods of
    // the sequence they extend: probed on the sample as instance methods.
    // Extension methods are probed as methods of the sequence (see `is_extension`).
    if is_static && kind != MemberKind::Constructor && !is_extension(dotnet, member, kind) {
        return features::static_member_exists(name, member, kind == MemberKind::Method);
    }
    if name == "string" {
        return match kind {
            MemberKind::Method => features::STRING_METHODS.contains(&member),
            MemberKind::Constructor => probe_runs(&constructor_probe(dotnet)),
            _ => matches!(member, "Length" | "Chars"),
        };
    }
    probes(dotnet, member, kind, is_static)
        .iter()
        .any(|p| probe_reaches(dotnet, member, p))
}

/// Whether the probe `source` of `member` reaches it: it runs (see [`probe_runs`]), or the
/// member is one .NET implements by throwing NotSupportedException and the probe gets that.
pub fn probe_reaches(dotnet: &str, member: &str, source: &str) -> bool {
    probe_runs(source)
        || (THROWS_BY_DESIGN.contains(&(dotnet, member))
            && probe_error(source) == Some("NotSupportedException"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_csharp_writes_them() {
        assert_eq!(source_name("System.String"), "string");
        assert_eq!(source_name("System.Collections.Generic.List`1"), "List");
        assert_eq!(
            source_name("System.TimeZoneInfo+AdjustmentRule"),
            "AdjustmentRule"
        );
        assert_eq!(
            constructor_probe("System.Collections.Generic.Dictionary`2"),
            "new Dictionary<string, string>()"
        );
    }

    #[test]
    fn answers_from_the_tables_and_the_interpreter() {
        assert!(supported("System.Math", "Abs", MemberKind::Method, true));
        assert!(!supported("System.Math", "Nope", MemberKind::Method, true));
        assert!(supported(
            "System.String",
            "Substring",
            MemberKind::Method,
            false
        ));
        assert!(supported(
            "System.String",
            "Length",
            MemberKind::Property,
            false
        ));
        assert!(supported(
            "System.Linq.Enumerable",
            "Where",
            MemberKind::Method,
            true
        ));
        assert!(supported(
            "System.DateTime",
            "Year",
            MemberKind::Property,
            false
        ));
        assert!(!supported(
            "System.DateTime",
            "Nope",
            MemberKind::Property,
            false
        ));
        assert!(supported(
            "Newtonsoft.Json.Linq.JObject",
            "Properties",
            MemberKind::Method,
            false
        ));
    }
}
