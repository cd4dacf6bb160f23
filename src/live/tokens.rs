//! Bearer tokens for writing to the register.
//!
//! A token reads `gm_<id>_<secret>`: 16 hex digits of public id (the store
//! looks the token up by it) and 64 hex digits (256 bits) of secret from the
//! operating system's generator. The store keeps only an Argon2id hash of
//! the secret (PHC string), so a copied register file or database reveals no
//! token. Argon2id is deliberately slow; so that a stream of writes does not
//! pay for it on every request, a verified secret's SHA-256 is remembered in
//! memory (per process, per token id; a revoked token is refused before the
//! memo is consulted, because the store is read on every request).

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use sha2::{Digest, Sha256};

use super::LiveError;
use crate::model::register::{Role, TokenRecord};

/// A token just made: the text to hand over once, and what is stored.
#[derive(Debug)]
pub struct NewToken {
    /// `gm_<id>_<secret>`; shown once, never stored.
    pub token: String,
    /// The stored record (hash only).
    pub record: TokenRecord,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Whether `name` is a valid token name: 1–64 of `A-Z a-z 0-9 . _ -`.
#[must_use]
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Makes a token for `name` with `role`, created at `now` (RFC 3339).
///
/// # Errors
/// [`LiveError::Invalid`] for a bad name; [`LiveError::Token`] if the
/// system's random generator or the hash fails.
pub fn make(name: &str, role: Role, now: &str) -> Result<NewToken, LiveError> {
    if !valid_name(name) {
        return Err(LiveError::Invalid {
            field: "name".into(),
            message: "1 to 64 letters, digits, '.', '_' or '-'".into(),
        });
    }
    let mut id = [0u8; 8];
    let mut secret = [0u8; 32];
    getrandom::fill(&mut id).map_err(|e| LiveError::Token(e.to_string()))?;
    getrandom::fill(&mut secret).map_err(|e| LiveError::Token(e.to_string()))?;
    let (id, secret) = (hex(&id), hex(&secret));
    let hash = Argon2::default()
        .hash_password(secret.as_bytes())
        .map_err(|e| LiveError::Token(e.to_string()))?
        .to_string();
    Ok(NewToken {
        token: format!("gm_{id}_{secret}"),
        record: TokenRecord {
            id,
            name: name.to_owned(),
            role,
            hash,
            created_at: now.to_owned(),
            revoked_at: None,
        },
    })
}

/// Splits a presented token into its id and secret; `None` when it does not
/// have the shape of one (so nothing is looked up).
#[must_use]
pub fn split(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("gm_")?;
    let (id, secret) = rest.split_once('_')?;
    let hex_of = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex_of(id, 16) && hex_of(secret, 64)).then_some((id, secret))
}

/// Checks secrets against stored hashes, remembering the ones verified.
#[derive(Debug, Default)]
pub struct Verifier {
    verified: Mutex<HashMap<String, [u8; 32]>>,
}

/// At most this many verified tokens are remembered; beyond, the memo starts
/// again (a bound, not a cache policy: there are few tokens).
const MEMO_LIMIT: usize = 4096;

impl Verifier {
    /// Whether `secret` is the secret of `record` (revocation is the
    /// caller's check). Runs Argon2id (tens of milliseconds) the first time
    /// per token: call it off the async runtime.
    pub fn verify(&self, record: &TokenRecord, secret: &str) -> bool {
        if self.remembered(record, secret) {
            return true;
        }
        let Ok(hash) = PasswordHash::new(&record.hash) else {
            return false;
        };
        if Argon2::default()
            .verify_password(secret.as_bytes(), &hash)
            .is_err()
        {
            return false;
        }
        let mut m = self
            .verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.len() >= MEMO_LIMIT {
            m.clear();
        }
        m.insert(record.id.clone(), Sha256::digest(secret.as_bytes()).into());
        true
    }

    /// Whether `secret` was verified for `record` before (cheap: no
    /// Argon2id).
    pub fn remembered(&self, record: &TokenRecord, secret: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&record.id)
            .is_some_and(|d| constant_time_eq(d, &digest))
    }
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_tokens_verify_and_others_do_not() {
        let t = make("alice", Role::Editor, "2026-01-01T00:00:00Z").expect("make");
        assert!(t.record.hash.starts_with("$argon2id$"));
        assert!(!t.record.hash.contains(&t.token[20..]));
        let (id, secret) = split(&t.token).expect("shape");
        assert_eq!(id, t.record.id);
        let v = Verifier::default();
        assert!(v.verify(&t.record, secret));
        assert!(v.verify(&t.record, secret), "memo path");
        let mut wrong = secret.to_owned();
        wrong.replace_range(0..1, if secret.starts_with('0') { "1" } else { "0" });
        assert!(!v.verify(&t.record, &wrong));
        assert!(split("gm_zz_00").is_none());
        assert!(split("Bearer gm_").is_none());
        assert!(!valid_name(""));
        assert!(!valid_name("a b"));
        assert!(valid_name("qgis-desk_3.1"));
    }
}
