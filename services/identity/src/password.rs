//! Secrets a person presents: the rules a new password must meet, one-time access codes, refresh tokens, and how
//! each is kept (argon2id for what a person chooses or types, SHA-256 for 256-bit random tokens).
//!
//! Nothing here logs, and no error carries a secret.

use std::sync::LazyLock;

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version, password_hash::SaltString,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{Rng, RngCore, rngs::OsRng};
use sha2::{Digest, Sha256};

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Argon2 takes time per byte too: a megabyte "password" must not become a way to load the server.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Passwords people pick first; all at least ten characters (shorter ones fail the length rule anyway).
/// Compared ignoring case.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789a",
    "1234567890a",
    "0987654321",
    "1q2w3e4r5t",
    "1q2w3e4r5t6y",
    "q1w2e3r4t5",
    "qwertyuiop",
    "qwerty1234",
    "qwerty12345",
    "qwerty123456",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "asdfghjkl1",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "p@ssw0rd123",
    "admin12345",
    "administrator1",
    "welcome123",
    "iloveyou123",
    "abc1234567",
    "abcd123456",
    "aa12345678",
    "a123456789",
    "student123",
    "student2024",
    "student2025",
    "kazakhstan1",
    "kazakhstan2024",
    "kazakhstan2025",
    "almaty2024",
    "astana2024",
    "йцукенгшщз",
    "йцукен12345",
    "пароль12345",
    "qazaqstan2024",
];

/// A rule a new password breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordRule {
    TooShort,
    TooLong,
    SameAsLogin,
    Common,
    NeedsLettersAndDigits,
}

impl PasswordRule {
    pub fn description(self) -> String {
        match self {
            Self::TooShort => format!("must be at least {MIN_PASSWORD_CHARS} characters"),
            Self::TooLong => format!("must be at most {MAX_PASSWORD_CHARS} characters"),
            Self::SameAsLogin => "must not be the login".into(),
            Self::Common => "is one of the most common passwords: choose another".into(),
            Self::NeedsLettersAndDigits => "must contain both letters and digits".into(),
        }
    }
}

/// Every rule `password` breaks for the account `login` (empty when it is acceptable).
pub fn broken_rules(password: &str, login: &str) -> Vec<PasswordRule> {
    let chars = password.chars().count();
    let lower = password.to_lowercase();
    let mut broken = Vec::new();
    if chars < MIN_PASSWORD_CHARS {
        broken.push(PasswordRule::TooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        broken.push(PasswordRule::TooLong);
    }
    if !login.is_empty() && lower == login.trim().to_lowercase() {
        broken.push(PasswordRule::SameAsLogin);
    }
    if COMMON_PASSWORDS.contains(&lower.as_str()) {
        broken.push(PasswordRule::Common);
    }
    if !(password.chars().any(char::is_alphabetic) && password.chars().any(|c| c.is_ascii_digit())) {
        broken.push(PasswordRule::NeedsLettersAndDigits);
    }
    broken
}

#[derive(Debug, thiserror::Error)]
#[error("hashing failed: {0}")]
pub struct HashError(String);

/// argon2id with the crate's defaults (19 MiB, 2 passes): for passwords, which people choose and may be weak.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    hash_with(&Argon2::default(), password)
}

/// A lighter argon2id for one-time codes: a code carries 60 random bits and expires in days, so guessing it from
/// the hash is out of reach even at this cost, and an import of hundreds of accounts stays quick.
fn code_hasher() -> Argon2<'static> {
    let params = Params::new(4 * 1024, 1, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_access_code(code: &str) -> Result<String, HashError> {
    hash_with(&code_hasher(), &normalise_access_code(code))
}

fn hash_with(argon2: &Argon2<'_>, secret: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2.hash_password(secret.as_bytes(), &salt).map(|hash| hash.to_string()).map_err(|e| HashError(e.to_string()))
}

/// Whether `secret` matches the argon2 PHC string `hash` (its parameters come from the string). An unreadable
/// hash matches nothing.
pub fn verify(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|hash| Argon2::default().verify_password(secret.as_bytes(), &hash).is_ok())
}

pub fn verify_access_code(code: &str, hash: &str) -> bool {
    verify(&normalise_access_code(code), hash)
}

/// Spends the time of a password check when there is nothing to check against (an unknown login, an account
/// without a password), so the answer's timing does not tell which logins exist.
pub fn verify_no_password(secret: &str) {
    static DUMMY: LazyLock<String> =
        LazyLock::new(|| hash_password("a password nobody has 7f3c").unwrap_or_else(|_| String::new()));
    let _ = verify(secret, &DUMMY);
}

/// The same for a one-time code: the time of a code check (lighter than a password's), so an unknown login or an
/// account without a pending code cannot be told from a wrong code.
pub fn verify_no_code(code: &str) {
    static DUMMY: LazyLock<String> =
        LazyLock::new(|| hash_access_code("ZZZZ-ZZZZ-ZZZ7").unwrap_or_else(|_| String::new()));
    let _ = verify_access_code(code, &DUMMY);
}

/// Letters and digits that cannot be mistaken for one another when read aloud or copied from paper (no I, O, 0, 1).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A one-time access code: 12 characters of a 32-letter alphabet (60 bits), in three groups of four, e.g.
/// `K7QM-2HXR-9PTA`.
pub fn generate_access_code() -> String {
    let mut rng = OsRng;
    let chars: Vec<char> = (0..12).map(|_| char::from(CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())])).collect();
    chars.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// Case and separators do not matter when a person types a code.
pub fn normalise_access_code(code: &str) -> String {
    code.chars().filter(|c| !matches!(c, '-' | ' ' | '\t')).map(|c| c.to_ascii_uppercase()).collect()
}

/// A refresh token: 256 random bits, base64url.
pub fn generate_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What identity keeps of a refresh token: a random 256-bit token needs no slow hash, SHA-256 cannot be reversed.
pub fn token_digest(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs a CPU-heavy hash off the async workers.
pub async fn off_the_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| HashError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_broken_rule_is_reported() {
        use PasswordRule::*;
        let cases: &[(&str, &str, &[PasswordRule])] = &[
            ("correct7horse", "aruzhan", &[]),
            ("Жаңа10құпиясөз", "aruzhan", &[]),
            ("short1", "aruzhan", &[TooShort]),
            ("abc", "abc", &[TooShort, SameAsLogin, NeedsLettersAndDigits]),
            ("aruzhan.s1990", "Aruzhan.S1990", &[SameAsLogin]),
            ("onlyletterslong", "aruzhan", &[NeedsLettersAndDigits]),
            ("12345678901234", "aruzhan", &[NeedsLettersAndDigits]),
            ("1234567890", "aruzhan", &[Common, NeedsLettersAndDigits]),
            ("QWERTY12345", "aruzhan", &[Common]),
            ("", "aruzhan", &[TooShort, NeedsLettersAndDigits]),
        ];
        for (password, login, expected) in cases {
            assert_eq!(broken_rules(password, login), *expected, "{password:?}");
        }
        let long = format!("a1{}", "x".repeat(MAX_PASSWORD_CHARS));
        assert_eq!(broken_rules(&long, "aruzhan"), [TooLong]);
    }

    #[test]
    fn codes_are_readable_and_forgiving_to_type() {
        let code = generate_access_code();
        assert_eq!(code.len(), 14);
        assert!(code.chars().all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8))));
        let hash = hash_access_code(&code).expect("hash");
        assert!(!hash.contains(&normalise_access_code(&code)));
        assert!(verify_access_code(&code.to_lowercase().replace('-', " "), &hash));
        assert!(!verify_access_code("AAAA-BBBB-CCCC", &hash));
        assert_ne!(generate_access_code(), code);
    }

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct7horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify("correct7horse", &hash));
        assert!(!verify("correct7hors", &hash));
        assert!(!verify("correct7horse", "not a hash"));
    }

    #[test]
    fn refresh_tokens_are_256_random_bits_kept_as_digests() {
        let token = generate_refresh_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&token).expect("base64url").len(), 32);
        assert_ne!(generate_refresh_token(), token);
        let digest = token_digest(&token);
        assert_eq!(digest.len(), 64);
        assert_eq!(token_digest(&token), digest);
    }
}
