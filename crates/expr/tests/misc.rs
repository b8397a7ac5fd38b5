//! The misc area's members that the C# oracle (Mono) cannot check: .NET Core APIs Mono lacks
//! (`ImportEncryptedPkcs8PrivateKey`) and state kept across calls.

mod support;

use gatehouse_expr::ExprKind;
use support::text_or_kind_as;

/// A block (`{ … }` written without its braces) or a single expression.
fn run(src: &str) -> String {
    match src.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        Some(body) => text_or_kind_as(body, ExprKind::Block),
        None => support::text_or_kind(src),
    }
}

/// A 1024-bit RSA key as PKCS#8 (openssl genrsa | openssl pkcs8 -topk8 -nocrypt), and the same
/// key encrypted with PBES2: AES-256-CBC with PBKDF2-HMAC-SHA256 (2048 rounds, password
/// "s3cret"), and AES-128-CBC with PBKDF2-HMAC-SHA1 (1000 rounds, password "pw").
const PLAIN: &str = "MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAK75oUczUlWIxcXpYj79dFQdkJyrBwaMEf1rDtaPH1++Xv7qhovH6HB3Oh2iNsp8pWq/zHJRnpc6UjBZqJ+Tyq6CrLqaHALOUR1vVARrlpoCqm3K5PYhH5jBdiSvLXNWgITbCjPANR7QVRg/L7H+Fj5giigIyhF1pZMsOXJMReTJAgMBAAECgYB+SOTBwqS13xT+lka2N69x1jS9HiLf8tA5Gr+G051NONTPHu0kjY+RPDvRj3YEBppMxUkFaSsQ8qLHCq7NHZm10DuTlIB/7DOv4htwMb6WVE5EHu3QbhDdUkPzsSmqlm0sWV41fMJvdfMaLm7AxZp8Pc3col+jIleTJMjTDtklEQJBANil112TO2KzYQIjwWGm0bXc970+EyGELkYSlMINBThoetR7mI7g5YKazlKb78CDJXe7AHLHHcv4fumde9dkDIMCQQDOwgBaoEQSYYIHgbFxS7m8dxRCE08Bl4AzYJXwTT66L1GKUisT7hUatWrB5t+uadiLk7b87fzELnersaJfmZ/DAkEAmpDvb2aMtuVtr54c6POgqNSmt5BjC8WHUh0Nnsi1UcJQ5+nqNP3FIQIbc5qnWbz3bU2wizL+UjjPKxNdeJV7ywJALHx3gQhcvSu3w4+3My5c710bwb/PzwLe9a8Bc+va5EqMG9vkIuymI9IG/2OCm09w5U9KHw/BxCBPZWTaEAHI6wJAEBESW0l+PnKiVVrNjVoA/reX2N7WeOoO3PEQ28bv2BakHf1gB0xZ/XjeToPHW1S1iXb84Tfst0jUk9K9V0A+AA==";
const AES256_SHA256: &str = "MIIC3TBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQIKnn6U6Zs6DICAggAMAwGCCqGSIb3DQIJBQAwHQYJYIZIAWUDBAEqBBB3r44V/okrlS7Mqvx1bUQ3BIICgNlS1wyuKuKB78/HrsOQYmydGZtucM0Qtsl6CbZqbg6SEsLmslfMtDkijR8fYlekeMc5UVicbGYT+e38Cs1nPnO2lvJwQ1UsgqqWCFLX57ZuK0KpUkrjNbHrK8Vaz7GnEPpTjn7FgdFi1/ClEBnT42zbwXZpJaYDGm08SKuc/TdCN1Q9jl/SmPjDoWCgqauOnDdaDmCn3JWxZwcHW3CNqIhRc6WGCBskgOXqKrDaS1LmB6nn66L0gIYjYzLChGCDlsOLLlIaidmrKya2N/jb4mxdJ0nWcSZoq/gzpEbAVghtMu8yPbzYdbdG+VQCvRZZC7UHrAUN6J+SzF2bJ/7wAAWn66wxXyTzHo453BjEo9upA/uevqypp96h5zMhqL8gDFPE6LlZKEgIJM0voDGARuHVOKpt3l/Tb2nT0ckyIw2VgYrxafJ+mti0bkiSL3aPq6sVIpCAvGsXw0NJF9TKDNawSmIPMo9cZdE1lxsT2V12nZrW1GFOwmERmdwC8knAQNpdkHlRqbRYSnJiCbsTDjDXqMl8fjgq90kJHiuJViHQ07SY/bc9PjThiq+zwlil3wc8rNYnbJTe/scCeW2DLIZaek+vumUp4EQhP9bX3U7ovrjkkBv3jJXbuUJFfpW7FDXiw2E+X5AzXPTIdnqLWV/BMM/75UkFVeNQqrwqk5h5Ip48qenjQ7I2O5unq+i5Y4+XcSHrn6Jc9WM9+MX02ccknzFWYCVeZGKr4mDm1ZoHerQDQt/L/57sVTZaQ5M1V38uUcpXr0xFpviQgOQ9wyMiqGGhT7odzTLyZegJqZFF3bAGGU1fBb9bj9CGcq7eyQWuhsvGyw9L+4Ihw8T2aLg=";
const AES128_SHA1: &str = "MIICzzBJBgkqhkiG9w0BBQ0wPDAbBgkqhkiG9w0BBQwwDgQIWYkPPBHOzSUCAgPoMB0GCWCGSAFlAwQBAgQQqVPQc+IghOcVNETGD7bL7QSCAoDBaQaF/GRyvyqbmF6NPN4rPguWnpDxPSw5UOa1dJ+KwHGhStpO3v65J5GEhrxS0tFe1Bk5hPyMUnv97X5TkhfB3pI4GwSzl83ie8LUhd3ayDkAsgdwkcDzkrFB2dS/COovaKdxrZpT07tPQAYlaeJqbbM/agwzi+p60MKZLovPebT5fXNws86e+6FWdiLcJtzR2YQREWKJfgg3DrcqQc/0ekFH6eck76+GQW95NTlG7wBivy9UOrxWzCTYLYeEFKNwTubMrKVaYkCqzkYp1XwdPZT3Gbm+esQrtAS3/25yJIu6UwjXXkzgOrU5q3/I5P4iojg0wjfl8t2lMNuIo2c5aJVQpRYjk5P0acWJD/gf+zp1yrrq5E3IAy2eLcZKvXZy+QU26g+1SvC9sonqWHWAeEBvQGLj+GEiktf8JpsbsVItwIdI0CzwLZGEpn3zaHgO7iqt4BRhwxbpcOHNFRa9MOsiOccEn/bMlSnteD0VOhh5nf/V5lGr37m6PDhHV8uGkSUGWOL5tgiul8utQ9f8HLpblUyXzl9tHl8GPJe8tD2l26LEn2rEDA11fP5GBKm4ILLQ5Gx6YVDneamF56oYJOwMBiyvV2URME05N+6yXUC2NjssgflES5T67HKYvXSHBwUoH2IL0vS+lESdXz5OyRXPjy5flb+mZESeKXHTNeMvrVHaURLJg56HmZ1jZc1ejnfnDSZhV39Jxnwt2XbfjE99qSS9zo2WXLNa75LuSVv5gUk2sli8KCX3sb+c0vUQhSbrWrOdRqCcihXNnBuxF4NCxEZItRrNBl7ABRJKgoTJPhueK+xOzMThyfqEw7zVTkzBE51nGSQbrdA//x+e";

fn import(encrypted: &str, password: &str) -> String {
    run(&format!(
        r#"{{ var rsa = RSA.Create(); rsa.ImportEncryptedPkcs8PrivateKey("{password}", Convert.FromBase64String("{encrypted}"), out int read); return read + " " + Convert.ToBase64String(rsa.ExportPkcs8PrivateKey()); }}"#
    ))
}

#[test]
fn encrypted_pkcs8_keys_decrypt_with_their_password() {
    let n256 = base64_len(AES256_SHA256);
    let n128 = base64_len(AES128_SHA1);
    assert_eq!(import(AES256_SHA256, "s3cret"), format!("{n256} {PLAIN}"));
    assert_eq!(import(AES128_SHA1, "pw"), format!("{n128} {PLAIN}"));
    assert_eq!(import(AES256_SHA256, "wrong"), "!CryptographicException");
    assert_eq!(import("MAA=", "x"), "!CryptographicException");
}

fn base64_len(s: &str) -> usize {
    s.len() / 4 * 3 - s.matches('=').count()
}

#[test]
fn encrypted_pkcs8_export_needs_parameters_no_expression_can_make() {
    assert_eq!(
        run(r#"RSA.Create().ExportEncryptedPkcs8PrivateKey("pw", null)"#),
        "!ArgumentNullException"
    );
    assert_eq!(
        run(
            r#"{ var b = new byte[4096]; return RSA.Create().TryExportEncryptedPkcs8PrivateKey("pw", null, b, out int n); }"#
        ),
        "!ArgumentNullException"
    );
}

#[test]
fn try_format_writes_the_callers_array() {
    assert_eq!(
        run(
            r#"{ var buf = new char[8]; 12.5.TryFormat(buf, out int n, "F1"); return new string(buf, 0, n); }"#
        ),
        "12.5"
    );
    assert_eq!(
        run(r#"{ var buf = new char[2]; return 12345.TryFormat(buf, out int n) + " " + n; }"#),
        "False 0"
    );
}
