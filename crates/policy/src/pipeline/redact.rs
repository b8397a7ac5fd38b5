//! Keeping secrets out of what leaves the pipeline: error messages (`context.LastError`, the
//! client's error body, the gateway's log) and traces.
//!
//! The expression library already never echoes an input in its messages, as .NET's own do
//! not; this is the second line: whatever text a policy produced (`throw new
//! Exception(key)`, a check-header refusal quoting the header), known secret values are
//! replaced before it goes anywhere.

/// What a secret is replaced by.
pub const REDACTED: &str = "***";

/// `text` with every occurrence of each of `secrets` replaced by [`REDACTED`]. Longer secrets
/// go first, so one that contains another is not left half-shown. An `Authorization`-style
/// value (`Bearer abc`) is also scrubbed by its credentials alone (`abc`).
pub fn scrub(text: String, secrets: &[String]) -> String {
    if secrets.is_empty() || text.is_empty() {
        return text;
    }
    let mut all: Vec<&str> = Vec::with_capacity(secrets.len() * 2);
    for s in secrets {
        let s = s.trim();
        if s.is_empty() {
            continue;
        }
        all.push(s);
        if let Some((scheme, credentials)) = s.split_once(' ') {
            let credentials = credentials.trim();
            if !scheme.is_empty() && !credentials.is_empty() {
                all.push(credentials);
            }
        }
    }
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut text = text;
    for s in all {
        if text.contains(s) {
            text = text.replace(s, REDACTED);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_every_known_secret() {
        let secrets = vec![
            "sek-123".to_string(),
            "Bearer tok.en".to_string(),
            String::new(),
        ];
        assert_eq!(
            scrub("a sek-123 b tok.en c Bearer tok.en".into(), &secrets),
            "a *** b *** c ***"
        );
        assert_eq!(scrub("nothing here".into(), &secrets), "nothing here");
    }
}
