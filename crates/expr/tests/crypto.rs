//! System.Security.Cryptography, X509 and BitConverter, checked against Mono.
//!
//! `crypto/cases.txt` holds expressions (one per line; `{ … }` lines are statement blocks);
//! `crypto/expected.txt` what Mono printed for each, made by `crypto/oracle.py` (which holds the
//! C# harness: `cd crates/expr/tests/crypto && python3 oracle.py`). The key, certificate and
//! signature fixtures beside them were made with Mono (`new RSACryptoServiceProvider(1024)
//! .ToXmlString(true)`) and OpenSSL (`openssl req -x509 -newkey rsa:1024 -subj "/C=US/O=Contoso
//! Ltd/OU=Gateway/CN=api.contoso.test" -set_serial 0x0A1B2C3D4E`, `openssl dgst -sha256 -sign`).
//! The .NET Core-only APIs Mono lacks (Import*/Export* of DER and PEM, PSS) are tested below by
//! round trips instead.

use gatehouse_expr::{Budget, ExprKind, Limits, MapContext, Value, eval, eval_with, parse};

const CASES: &str = include_str!("crypto/cases.txt");
const EXPECTED: &str = include_str!("crypto/expected.txt");
const KEY: &str = include_str!("crypto/rsa1024.xml");
const CERT: &str = include_str!("crypto/cert.b64");
const SIG: &str = include_str!("crypto/sig.b64");

/// Where Mono is not .NET: what .NET (Core, as APIM runs) gives instead, and why.
const KNOWN_MONO_DIFFERENCES: &[(&str, &str)] = &[
    // Mono returns the raw (garbage) plaintext of an all-zero ciphertext; .NET rejects the
    // padding with a CryptographicException.
    (
        "{ var r = RSA.Create(); r.FromXmlString($KEY); return r.Decrypt(new byte[128], RSAEncryptionPadding.Pkcs1); }",
        "!CryptographicException",
    ),
    // .NET Core wraps any XML parse failure of FromXmlString in a CryptographicException
    // (XmlKeyHelper.ParseDocument); Mono throws its XmlSyntaxException.
    (
        "{ var r = RSA.Create(); r.FromXmlString(\"garbage\"); return r.KeySize; }",
        "!CryptographicException",
    ),
    // .NET Core refuses a ciphertext that is not whole blocks with "The input data is not a
    // complete block." (a CryptographicException); Mono throws ArgumentException when it is
    // longer than one block.
    ("$D.Decrypt(\"Aes\", $K16, $IV)", "!CryptographicException"),
];

/// The placeholders of cases.txt, as oracle.py substitutes them.
fn substitute(line: &str) -> String {
    let q = |s: &str| format!("\"{}\"", s.trim());
    [
        ("$KEY", q(KEY)),
        ("$CERT", q(CERT)),
        ("$SIG", q(SIG)),
        (
            "$K16",
            r#"Encoding.UTF8.GetBytes("0123456789abcdef")"#.into(),
        ),
        (
            "$K24",
            r#"Encoding.UTF8.GetBytes("0123456789abcdef01234567")"#.into(),
        ),
        (
            "$K32",
            r#"Encoding.UTF8.GetBytes("0123456789abcdef0123456789abcdef")"#.into(),
        ),
        (
            "$IV",
            r#"Encoding.UTF8.GetBytes("fedcba9876543210")"#.into(),
        ),
        (
            "$D",
            r#"Encoding.UTF8.GetBytes("The quick brown fox")"#.into(),
        ),
    ]
    .iter()
    .fold(line.to_string(), |l, (k, v)| l.replace(k, v))
}

/// What the C# harness prints: byte[] as "bytes:" + BitConverter.ToString, null as "null",
/// exceptions as "!" + their type's name, anything else as ToString().
fn show(src: &str) -> String {
    let (kind, text) = match src.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        Some(inner) => (ExprKind::Block, inner.to_string()),
        None => (ExprKind::Single, src.to_string()),
    };
    let p = match parse(&text, kind) {
        Ok(p) => p,
        Err(e) => return format!("parse error: {e:?}"),
    };
    match eval(&p, &mut MapContext::new()) {
        Ok(Value::Bytes(b)) => format!(
            "bytes:{}",
            b.iter()
                .map(|x| format!("{x:02X}"))
                .collect::<Vec<_>>()
                .join("-")
        ),
        Ok(Value::Null) => "null".into(),
        Ok(v) => v.to_display(),
        Err(e) => format!("!{}", e.kind),
    }
}

#[test]
fn agrees_with_mono() {
    let cases: Vec<&str> = CASES.lines().filter(|l| !l.trim().is_empty()).collect();
    let expected: Vec<&str> = EXPECTED.lines().collect();
    assert_eq!(cases.len(), expected.len(), "run crypto/oracle.py again");
    let mut differences = Vec::new();
    for (case, mono) in cases.iter().zip(&expected) {
        let want = KNOWN_MONO_DIFFERENCES
            .iter()
            .find(|(c, _)| c == case)
            .map_or(*mono, |(_, dotnet)| dotnet);
        let got = show(&substitute(case));
        if got != want {
            differences.push(format!("{case}\n  want {want}\n  got  {got}"));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} cases differ:\n{}",
        differences.len(),
        cases.len(),
        differences.join("\n")
    );
}

/// The harness itself: a case's rendering is the real result, not a constant.
#[test]
fn show_renders_results() {
    assert_eq!(
        show(&substitute("MD5.Create().ComputeHash($D)")),
        "bytes:A2-00-4F-37-73-0B-94-45-67-0A-73-8F-A0-FC-9E-E5"
    );
    assert_eq!(
        show("BitConverter.ToInt32(new byte[] { 1 }, 0)"),
        "!ArgumentException"
    );
    assert_eq!(show("{ return 1 + 1; }"), "2");
}

fn block(src: &str) -> String {
    show(&substitute(&format!("{{ {src} }}")))
}

/// .NET Core 3+ key formats (Mono has none of them): each export imports back to the same key,
/// which signs as the XML-imported key does.
#[test]
fn der_and_pem_round_trips() {
    let reference = block(
        "var r = RSA.Create(); r.FromXmlString($KEY); return r.SignData($D, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);",
    );
    assert!(reference.starts_with("bytes:2C-98-86-32"), "{reference}");
    for (export, import) in [
        ("ExportRSAPrivateKey", "ImportRSAPrivateKey"),
        ("ExportPkcs8PrivateKey", "ImportPkcs8PrivateKey"),
    ] {
        let src = format!(
            "var r = RSA.Create(); r.FromXmlString($KEY); var der = r.{export}(); var r2 = RSA.Create(); r2.{import}(der, out int read); if (read != der.Length) return \"read \" + read; return r2.SignData($D, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);"
        );
        assert_eq!(block(&src), reference, "{export}");
    }
    for (export, import) in [
        ("ExportRSAPublicKey", "ImportRSAPublicKey"),
        ("ExportSubjectPublicKeyInfo", "ImportSubjectPublicKeyInfo"),
    ] {
        let src = format!(
            "var r = RSA.Create(); r.FromXmlString($KEY); var s = r.SignData($D, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1); var r2 = RSA.Create(); r2.{import}(r.{export}(), out var read); return r2.VerifyData($D, s, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1) + \" \" + r2.KeySize + \" \" + r2.ToXmlString(false).Length;"
        );
        assert_eq!(block(&src), "True 1024 243", "{export}");
    }
    // Trailing bytes after the DER element are not read.
    assert_eq!(
        block(
            "var r = RSA.Create(); r.FromXmlString($KEY); var der = r.ExportSubjectPublicKeyInfo(); var longer = new byte[der.Length + 3]; Array.Copy(der, longer, der.Length); var r2 = RSA.Create(); r2.ImportSubjectPublicKeyInfo(longer, out int n); return n == der.Length;"
        ),
        "True"
    );
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\\n{}\\n-----END PUBLIC KEY-----",
        "\" + Convert.ToBase64String(r.ExportSubjectPublicKeyInfo()) + \""
    );
    assert_eq!(
        block(&format!(
            "var r = RSA.Create(); r.FromXmlString($KEY); var p = RSA.Create(); p.ImportFromPem(\"{pem}\"); return p.ToXmlString(false) == r.ToXmlString(false);"
        )),
        "True"
    );
    assert_eq!(
        block("var r = RSA.Create(); r.ImportFromPem(\"no key here\"); return 1;"),
        "!ArgumentException"
    );
    assert_eq!(
        block(
            "var r = RSA.Create(); r.ImportRSAPublicKey(new byte[] { 48, 3, 1, 2, 3 }, out int n); return n;"
        ),
        "!CryptographicException"
    );
}

/// PSS (randomised: verified, not compared) and OAEP with SHA-2 (.NET Core only).
#[test]
fn pss_and_oaep_sha2() {
    for h in ["SHA1", "SHA256", "SHA384"] {
        let src = format!(
            "var r = RSA.Create(); r.FromXmlString($KEY); var s = r.SignData($D, HashAlgorithmName.{h}, RSASignaturePadding.Pss); var s2 = r.SignData($D, HashAlgorithmName.{h}, RSASignaturePadding.Pss); return r.VerifyData($D, s, HashAlgorithmName.{h}, RSASignaturePadding.Pss) && !r.VerifyData($D, s, HashAlgorithmName.{h}, RSASignaturePadding.Pkcs1) && s.Length == 128 && Convert.ToBase64String(s) != Convert.ToBase64String(s2);"
        );
        assert_eq!(block(&src), "True", "{h}");
    }
    // PSS salts with as many bytes as the hash: SHA-512's 64 + 64 + 2 do not fit a 1024-bit
    // key, which .NET refuses too.
    assert_eq!(
        block(
            "var r = RSA.Create(); r.FromXmlString($KEY); return r.SignData($D, HashAlgorithmName.SHA512, RSASignaturePadding.Pss);"
        ),
        "!CryptographicException"
    );
    for p in ["OaepSHA256", "OaepSHA384"] {
        let src = format!(
            "var r = RSA.Create(); r.FromXmlString($KEY); return Encoding.UTF8.GetString(r.Decrypt(r.Encrypt($D, RSAEncryptionPadding.{p}), RSAEncryptionPadding.{p}));"
        );
        assert_eq!(block(&src), "The quick brown fox", "{p}");
    }
    // A public key cannot decrypt or sign.
    assert_eq!(
        block(
            "var r = RSA.Create(); r.FromXmlString($KEY); var p = RSA.Create(); p.FromXmlString(r.ToXmlString(false)); return p.Decrypt(r.Encrypt($D, RSAEncryptionPadding.Pkcs1), RSAEncryptionPadding.Pkcs1);"
        ),
        "!CryptographicException"
    );
    assert_eq!(
        block(
            "var r = RSA.Create(); r.FromXmlString($KEY); return r.SignData($D, new HashAlgorithmName(\"SHA3\"), RSASignaturePadding.Pkcs1);"
        ),
        "!CryptographicException"
    );
}

/// `RSA.Create()` makes no key until one is needed; then it makes one of `KeySize` bits.
#[test]
fn rsa_keys_are_generated_lazily() {
    assert_eq!(block("var r = RSA.Create(); return r.KeySize;"), "2048");
    assert_eq!(
        block(
            "var r = RSA.Create(); r.KeySize = 512; var s = r.SignData($D, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1); return r.VerifyData($D, s, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1) + \" \" + s.Length;"
        ),
        "True 64"
    );
    assert_eq!(
        block("var r = RSA.Create(); r.KeySize = 100; return 1;"),
        "!CryptographicException"
    );
    assert_eq!(
        block("var r = RSA.Create(8192); return r.ExportParameters(false).Modulus.Length;"),
        "!CryptographicException"
    );
}

/// Generating a key is checked against the time budget (a 1024-bit key takes longer than 1 ms),
/// and a huge input to a cipher is refused by the memory budget before it is copied.
#[test]
fn crypto_counts_against_the_budget() {
    let run = |src: &str, limits: &Limits| {
        let p = parse(&substitute(src), ExprKind::Block).expect("parses");
        eval_with(&p, &mut MapContext::new(), limits)
    };
    let tight = Limits {
        time: std::time::Duration::from_millis(1),
        ..Limits::default()
    };
    let e = run(
        "var r = RSA.Create(1024); return r.SignData($D, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);",
        &tight,
    )
    .expect_err("over the time budget");
    assert_eq!(e.budget, Some(Budget::Time), "{e:?}");
    // The same with a key imported: no generation, within budget.
    assert!(
        run(
            "var r = RSA.Create(); r.FromXmlString($KEY); return r.SignData($D, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);",
            &Limits::default(),
        )
        .is_ok()
    );
    let small = Limits {
        memory: 64 * 1024,
        ..Limits::default()
    };
    let e = run(
        "var big = new byte[40000]; return big.Encrypt(\"Aes\", $K16, $IV);",
        &small,
    )
    .expect_err("over the memory budget");
    assert_eq!(e.budget, Some(Budget::Memory), "{e:?}");
    let e = run(
        "var big = new byte[40000]; var h = SHA256.Create(); var n = 0; for (var i = 0; i < 100000; i++) { n += h.ComputeHash(big)[0]; } return n;",
        &Limits { time: std::time::Duration::from_millis(50), ..Limits::default() },
    )
    .expect_err("over the time budget");
    assert!(e.budget.is_some(), "{e:?}");
}

/// Random bytes are random and fill the caller's array.
#[test]
fn random_bytes() {
    let a = block("var b = new byte[32]; new RNGCryptoServiceProvider().GetBytes(b); return b;");
    let b = block("var b = new byte[32]; RandomNumberGenerator.Create().GetBytes(b); return b;");
    assert!(
        a.starts_with("bytes:") && a.len() == "bytes:".len() + 32 * 3 - 1,
        "{a}"
    );
    assert_ne!(a, b);
    assert_eq!(
        block("return RandomNumberGenerator.GetBytes(5).Length;"),
        "5"
    );
    assert_eq!(
        block(
            "var b = new byte[64]; new RNGCryptoServiceProvider().GetNonZeroBytes(b); return b.All(x => x != 0);"
        ),
        "True"
    );
    assert_eq!(
        block(
            "var a = Aes.Create(); var k = a.Key; a.GenerateKey(); return Convert.ToBase64String(k) != Convert.ToBase64String(a.Key);"
        ),
        "True"
    );
}

/// What `policy check` reports for crypto code as real policies write it: nothing.
#[test]
fn policy_check_accepts_the_crypto_surface() {
    let sources = [
        // Signing a token with RSA (the issue's example): HashAlgorithmName, RSASignaturePadding.
        r#"var rsa = RSA.Create(); rsa.ImportParameters(new RSAParameters { Modulus = Convert.FromBase64String("AQAB"), Exponent = Convert.FromBase64String("AQAB") }); var sig = rsa.SignData(Encoding.UTF8.GetBytes("x"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1); return Convert.ToBase64String(sig);"#,
        r#"var key = new byte[32]; new RNGCryptoServiceProvider().GetBytes(key); var a = Aes.Create(); a.Key = key; a.Mode = CipherMode.CBC; a.Padding = PaddingMode.PKCS7; a.GenerateIV(); return Convert.ToBase64String(Encoding.UTF8.GetBytes("x").Encrypt(a));"#,
        r#"var cert = new X509Certificate2(Convert.FromBase64String("AA==")); return cert.GetNameInfo(X509NameType.SimpleName, false) + cert.Thumbprint + BitConverter.ToString(SHA512.Create().ComputeHash(cert.RawData));"#,
        r#"using var h = new HMACSHA512(Encoding.UTF8.GetBytes("k")); return BitConverter.ToString(h.ComputeHash(Encoding.UTF8.GetBytes("x"))).Replace("-", "");"#,
        r#"return HashAlgorithm.Create("SHA384").HashSize + KeyedHashAlgorithm.Create("HMACSHA1").HashSize + new Oid("1.2.840.113549.1.1.1").FriendlyName + System.Security.Cryptography.MD5.Create().HashSize + BitConverter.ToInt64(BitConverter.GetBytes(1L), 0);"#,
    ];
    // crates/policy/tests/corpus/"Encrypt data using expressions.policy.xml", as written.
    let corpus = r#"
            string goober = (string)context.Request.MatchedParameters["Goober"];
            byte[] gooberBytes = Encoding.UTF8.GetBytes(goober);
            byte[] IV = Convert.FromBase64String((string)context.Variables["IV"]);
            byte[] key = Convert.FromBase64String((string)context.Variables["key"]);
            byte[] encryptedBytes = gooberBytes.Encrypt("Aes", key, IV);
            return Convert.ToBase64String(encryptedBytes);
        "#;
    let p = parse(corpus, ExprKind::Block).expect("parses");
    assert!(p.unsupported_members().is_empty());
    let mut c = MapContext::new();
    c.entry("Request.MatchedParameters", "Goober", "hello world")
        .variable("IV", "ZmVkY2JhOTg3NjU0MzIxMA==")
        .variable("key", "MDEyMzQ1Njc4OWFiY2RlZg==");
    // The same bytes as `Encoding.UTF8.GetBytes("hello world").Encrypt("Aes", $K16, $IV)` in
    // cases.txt, whose Mono result is 12-30-AA-04-….
    assert_eq!(
        eval(&p, &mut c).map(|v| v.to_display()).ok().as_deref(),
        Some("EjCqBOVHpEbXXDjOe20Q1g==")
    );
    for src in sources {
        let p = match parse(src, ExprKind::Block) {
            Ok(p) => p,
            // `using var` is another part's statement: skip what this crate cannot parse yet.
            Err(_) if src.starts_with("using") => continue,
            Err(e) => panic!("{src}: {e:?}"),
        };
        assert!(p.features().contains("crypto"), "{src}");
        let found = p.unsupported_members();
        assert!(found.is_empty(), "{src}: {found:?}");
    }
    let p = parse("SHA3.Create()", ExprKind::Single).expect("parses");
    assert!(!p.unsupported_members().is_empty());
    let p = parse("RSASignaturePadding.Pkcs2", ExprKind::Single).expect("parses");
    assert!(!p.unsupported_members().is_empty());
}

/// Casts and type tests name crypto types as policies do.
#[test]
fn casts_to_crypto_types() {
    assert_eq!(
        show(&substitute(
            "((RSA)new X509Certificate2(Convert.FromBase64String($CERT)).PublicKey.Key).KeySize"
        )),
        "1024"
    );
    assert_eq!(
        show(&substitute(
            "(new X509Certificate2(Convert.FromBase64String($CERT)).PublicKey.Key as RSA).KeySize"
        )),
        "1024"
    );
    assert_eq!(show("(SHA256.Create() as HashAlgorithm).HashSize"), "256");
    assert_eq!(
        show("((HashAlgorithm)new HMACSHA1(new byte[1])).HashSize"),
        "160"
    );
}

/// A host hands a client certificate to expressions as an X509Certificate2 value.
#[test]
fn host_certificates() {
    let der = base64_decode(CERT.trim());
    let cert = gatehouse_expr::x509_certificate(der).expect("a certificate");
    let mut c = MapContext::new();
    c.set("Request.Certificate", cert);
    let p = parse(
        "context.Request.Certificate.Subject + \"|\" + context.Request.Certificate.GetNameInfo(X509NameType.SimpleName, false)",
        ExprKind::Single,
    )
    .expect("parses");
    assert_eq!(
        eval(&p, &mut c).map(|v| v.to_display()).ok().as_deref(),
        Some("CN=api.contoso.test, OU=Gateway, O=Contoso Ltd, C=US|api.contoso.test")
    );
    assert!(gatehouse_expr::x509_certificate(vec![1, 2, 3]).is_none());
}

fn base64_decode(s: &str) -> Vec<u8> {
    let p = parse(
        &format!("Convert.FromBase64String(\"{s}\")"),
        ExprKind::Single,
    )
    .expect("parses");
    match eval(&p, &mut MapContext::new()) {
        Ok(Value::Bytes(b)) => b,
        other => panic!("{other:?}"),
    }
}

/// Overloads and .NET 6 one-shot methods Mono lacks, against the forms Mono checked.
#[test]
fn dotnet_core_overloads() {
    assert_eq!(
        block(
            "var r = RSA.Create(); r.FromXmlString($KEY); var d = $D; return Convert.ToBase64String(r.SignData(d, 4, 5, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)) == Convert.ToBase64String(r.SignData(Encoding.UTF8.GetBytes(\"quick\"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));"
        ),
        "True"
    );
    assert_eq!(
        block(
            "var r = RSA.Create(); r.FromXmlString($KEY); var s = r.SignData(Encoding.UTF8.GetBytes(\"quick\"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1); return r.VerifyData($D, 4, 5, s, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);"
        ),
        "True"
    );
    assert_eq!(
        block(
            "var a = Aes.Create(); a.Key = $K16; return Convert.ToBase64String(a.EncryptCbc($D, $IV, PaddingMode.PKCS7)) == Convert.ToBase64String($D.Encrypt(\"Aes\", $K16, $IV)) && Encoding.UTF8.GetString(a.DecryptCbc(a.EncryptCbc($D, $IV), $IV)) == \"The quick brown fox\";"
        ),
        "True"
    );
    assert_eq!(
        block(
            "var a = Aes.Create(); a.Key = $K16; a.Mode = CipherMode.ECB; return Convert.ToBase64String(a.EncryptEcb($D, PaddingMode.Zeros)) == Convert.ToBase64String(a.CreateEncryptor().TransformFinalBlock($D, 0, 19));"
        ),
        "False"
    );
    assert_eq!(
        block(
            "var a = Aes.Create(); a.Key = $K16; a.Mode = CipherMode.ECB; a.Padding = PaddingMode.Zeros; return Convert.ToBase64String(a.EncryptEcb($D, PaddingMode.Zeros)) == Convert.ToBase64String(a.CreateEncryptor().TransformFinalBlock($D, 0, 19));"
        ),
        "True"
    );
    assert_eq!(
        show("Oid.FromFriendlyName(\"sha256\", OidGroup.HashAlgorithm).Value"),
        "2.16.840.1.101.3.4.2.1"
    );
    assert_eq!(show("SHA384.HashData(new byte[0]).Length"), "48");
    assert_eq!(
        show(
            "Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(\"key\"), Encoding.UTF8.GetBytes(\"The quick brown fox\")))"
        ),
        show(
            "Convert.ToBase64String(new HMACSHA256(Encoding.UTF8.GetBytes(\"key\")).ComputeHash(Encoding.UTF8.GetBytes(\"The quick brown fox\")))"
        )
    );
}

/// X509Certificate's legacy getters, as Mono gives them for crates/expr/tests/crypto/cert.b64.
#[test]
fn certificate_legacy_getters() {
    let cert = |m: &str| {
        show(&substitute(&format!(
            "new System.Security.Cryptography.X509Certificates.X509Certificate2(Convert.FromBase64String($CERT)).{m}"
        )))
    };
    assert_eq!(cert("GetFormat()"), "X509");
    assert_eq!(cert("GetKeyAlgorithm()"), "1.2.840.113549.1.1.1");
    assert_eq!(cert("GetKeyAlgorithmParametersString()"), "0500");
    assert_eq!(cert("GetSerialNumberString()"), "0A1B2C3D4E");
    assert_eq!(cert("GetSerialNumber()[0]"), "78");
    assert_eq!(cert("GetPublicKey().Length"), "140");
    assert!(cert("GetPublicKeyString()").starts_with("30818902818100BC25ED68"));
}

/// The streaming surface of the hash algorithms, as Mono gives it: blocks hashed together,
/// `Hash` only once finalised, HMAC keys longer than the block kept hashed.
#[test]
fn hashes_stream_blocks() {
    let abc = "var d = Encoding.UTF8.GetBytes(\"abc\");";
    assert_eq!(
        show(&format!(
            "{{ {abc} var s = SHA256.Create(); s.TransformBlock(d, 0, 2, null, 0); s.TransformFinalBlock(d, 2, 1); return s.Hash; }}"
        )),
        show(&format!(
            "{{ {abc} return SHA256.Create().ComputeHash(d); }}"
        ))
    );
    assert_eq!(
        show(&format!(
            "{{ {abc} var s = SHA256.Create(); s.TransformBlock(d, 0, 2, null, 0); return s.Hash; }}"
        )),
        "!CryptographicUnexpectedOperationException"
    );
    assert_eq!(show("SHA1.Create().Hash"), "null");
    assert_eq!(
        show(&format!(
            "{{ {abc} var s = MD5.Create(); s.Dispose(); return s.ComputeHash(d); }}"
        )),
        "!ObjectDisposedException"
    );
    assert_eq!(
        show(&format!(
            "{{ {abc} return SHA256.Create().TransformBlock(d, 0, 4, null, 0); }}"
        )),
        "!ArgumentException"
    );
    assert_eq!(show("new HMACSHA256(new byte[100]).Key.Length"), "32");
    assert_eq!(
        show(&format!(
            "{{ {abc} var h = new HMACSHA256(d); h.TransformBlock(d, 0, 1, null, 0); h.Key = d; return 0; }}"
        )),
        "!CryptographicException"
    );
}
