//! The personal-data vault: AES-256-GCM encryption at rest with an HMAC-SHA256 keyed hash
//! beside each value for exact lookup, and the masking used in lists, logs and pages.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{Context, anyhow, bail};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::config::Config;

type HmacSha256 = Hmac<Sha256>;

/// Version byte in front of every sealed value, so keys can be rotated later.
const SEAL_VERSION: u8 = 1;

/// Encrypts, decrypts and hashes personal data with keys derived from one master key.
pub struct Vault {
    cipher: Aes256Gcm,
    mac_key: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(***)")
    }
}

fn derive(master: &[u8], label: &str) -> anyhow::Result<[u8; 32]> {
    let mut mac =
        <HmacSha256 as Mac>::new_from_slice(master).map_err(|e| anyhow!("bad key: {e}"))?;
    mac.update(label.as_bytes());
    Ok(mac.finalize().into_bytes().into())
}

impl Vault {
    /// A vault from a 32-byte master key given as 64 hex characters.
    pub fn from_hex(key_hex: &str) -> anyhow::Result<Vault> {
        let master = hex::decode(key_hex.trim()).context("encryption key is not hex")?;
        if master.len() != 32 {
            bail!(
                "encryption key must be 32 bytes (64 hex characters), got {}",
                master.len()
            );
        }
        let enc_key = derive(&master, "civitas/personal-data/aes-256-gcm/v1")?;
        let mac_key = derive(&master, "civitas/personal-data/hmac-sha256/v1")?;
        let cipher = Aes256Gcm::new_from_slice(&enc_key).map_err(|e| anyhow!("bad key: {e}"))?;
        Ok(Vault { cipher, mac_key })
    }

    /// A fresh random master key as hex.
    pub fn generate_key_hex() -> String {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        hex::encode(key)
    }

    /// The vault the configuration names: `encryption_key`, else the key file in the data
    /// folder; when `create` is set and neither exists, a new key file is written (demo).
    pub fn from_config(config: &Config, create: bool) -> anyhow::Result<Vault> {
        if let Some(key) = &config.encryption_key {
            return Vault::from_hex(key);
        }
        let path = config.key_file();
        if path.exists() {
            let key = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read key file {}", path.display()))?;
            return Vault::from_hex(&key);
        }
        if !create {
            bail!(
                "no encryption key: set CIVITAS_ENCRYPTION_KEY (64 hex characters) or put a key in {} (serve --demo writes one)",
                path.display()
            );
        }
        std::fs::create_dir_all(&config.data_dir)?;
        let key = Vault::generate_key_hex();
        write_private(&path, &key)?;
        Vault::from_hex(&key)
    }

    /// Encrypts `plaintext`; `context` (e.g. `person.phone`) is bound as associated data so
    /// a value cannot be moved to another column unnoticed.
    pub fn seal(&self, plaintext: &str, context: &str) -> anyhow::Result<Vec<u8>> {
        self.seal_bytes(plaintext.as_bytes(), context)
    }

    /// Encrypts bytes (an uploaded file) the same way as [`seal`](Self::seal).
    pub fn seal_bytes(&self, plaintext: &[u8], context: &str) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| anyhow!("encryption failed"))?;
        let mut out = Vec::with_capacity(1 + 12 + ciphertext.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypts a value sealed with the same `context`.
    pub fn open(&self, sealed: &[u8], context: &str) -> anyhow::Result<String> {
        String::from_utf8(self.open_bytes(sealed, context)?).context("sealed value is not UTF-8")
    }

    /// Decrypts bytes sealed with [`seal_bytes`](Self::seal_bytes) and the same `context`.
    pub fn open_bytes(&self, sealed: &[u8], context: &str) -> anyhow::Result<Vec<u8>> {
        if sealed.len() < 13 || sealed[0] != SEAL_VERSION {
            bail!("sealed value is malformed");
        }
        self.cipher
            .decrypt(
                Nonce::from_slice(&sealed[1..13]),
                Payload {
                    msg: &sealed[13..],
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| anyhow!("sealed value does not decrypt with this key"))
    }

    /// The keyed hash of `value` for exact lookup (hex).
    pub fn lookup_hash(&self, value: &str, context: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.mac_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create key file {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

/// Masks all but the first `keep_start` and last `keep_end` characters with `*`.
pub fn mask(value: &str, keep_start: usize, keep_end: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= keep_start + keep_end {
        return "*".repeat(chars.len());
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_start || i >= chars.len() - keep_end {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

/// A resident ID as lists show it: `1101**********1234`.
pub fn mask_resident_id(value: &str) -> String {
    mask(value, 4, 4)
}

/// A phone number as lists show it: `138****5678`.
pub fn mask_phone(value: &str) -> String {
    mask(value, 3, 4)
}

/// A name as lists show it to strangers: `张*明` / `王*`.
pub fn mask_name(value: &str) -> String {
    let n = value.chars().count();
    if n <= 2 {
        mask(value, 1, 0)
    } else {
        mask(value, 1, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_context_binding() {
        let vault = Vault::from_hex(&Vault::generate_key_hex()).unwrap();
        let sealed = vault
            .seal("11010519491231002X", "person.resident_id")
            .unwrap();
        assert_eq!(
            vault.open(&sealed, "person.resident_id").unwrap(),
            "11010519491231002X"
        );
        assert!(vault.open(&sealed, "person.phone").is_err());
        let other = Vault::from_hex(&Vault::generate_key_hex()).unwrap();
        assert!(other.open(&sealed, "person.resident_id").is_err());
    }

    #[test]
    fn lookup_hash_is_keyed_and_stable() {
        let key = Vault::generate_key_hex();
        let a = Vault::from_hex(&key).unwrap();
        let b = Vault::from_hex(&key).unwrap();
        assert_eq!(a.lookup_hash("x", "c"), b.lookup_hash("x", "c"));
        assert_ne!(a.lookup_hash("x", "c"), a.lookup_hash("x", "d"));
        let other = Vault::from_hex(&Vault::generate_key_hex()).unwrap();
        assert_ne!(a.lookup_hash("x", "c"), other.lookup_hash("x", "c"));
    }

    #[test]
    fn masks() {
        assert_eq!(mask_resident_id("11010519491231002X"), "1101**********002X");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳明月"), "欧**月");
    }
}
