//! Single-use signed links for answering cover offers from an e-mail. The
//! link carries the offer, the answer and an expiry, signed with HMAC-SHA256
//! under a key kept in the database (so every server sharing it agrees);
//! "single use" comes from the offer itself, which can be answered once.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::tokens::hex;

type HmacSha256 = Hmac<Sha256>;

/// What an expired link says (Japanese first).
pub const EXPIRED: &str = "このリンクは有効期限が切れています。まだ応援が必要か、コーディネーターにお問い合わせください / the link has expired";

fn mac(key: &[u8], offer: i64, action: &str, expires: i64) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(format!("offer:{offer}:{action}:{expires}").as_bytes());
    m
}

pub fn sign(key: &[u8], offer: i64, action: &str, expires: DateTime<Utc>) -> String {
    hex(&mac(key, offer, action, expires.timestamp())
        .finalize()
        .into_bytes())
}

/// The secret part of a web sign-in link: an HMAC of the link's id under
/// the same key, so the database holds nothing that opens the link.
pub fn sign_in_secret(key: &[u8], id: &str) -> String {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(format!("sign-in:{id}").as_bytes());
    hex(&m.finalize().into_bytes())
}

/// Checks a sign-in link's secret in constant time.
pub fn verify_sign_in(key: &[u8], id: &str, secret: &str) -> bool {
    let Some(bytes) = (0..secret.len())
        .step_by(2)
        .map(|i| {
            secret
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(format!("sign-in:{id}").as_bytes());
    m.verify_slice(&bytes).is_ok()
}

/// The path and query of a link (append to the public URL).
pub fn link(key: &[u8], offer: i64, action: &str, expires: DateTime<Utc>) -> String {
    format!(
        "/api/v1/offers/{offer}/respond?action={action}&expires={}&sig={}",
        expires.timestamp(),
        sign(key, offer, action, expires)
    )
}

/// The path and query of a link answering a swap proposal (`accept` or
/// `decline`); signed as the action `swap-accept` / `swap-decline`, so it
/// can never pass for an offer's link.
pub fn swap_link(key: &[u8], swap: i64, action: &str, expires: DateTime<Utc>) -> String {
    format!(
        "/swaps/{swap}/respond?action={action}&expires={}&sig={}",
        expires.timestamp(),
        sign(key, swap, &format!("swap-{action}"), expires)
    )
}

/// Checks a link's signature (in constant time) and expiry.
pub fn verify(
    key: &[u8],
    offer: i64,
    action: &str,
    expires: i64,
    sig: &str,
    now: DateTime<Utc>,
) -> Result<(), &'static str> {
    let bytes = (0..sig.len())
        .step_by(2)
        .map(|i| {
            sig.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or("リンクの署名が壊れています / the link's signature is malformed")?;
    mac(key, offer, action, expires)
        .verify_slice(&bytes)
        .map_err(|_| "リンクが書き換えられているか、このシステムのものではありません / the link's signature does not match: it was altered or is not ours")?;
    if now.timestamp() > expires {
        return Err(EXPIRED);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_links() {
        let key = b"k3y";
        let exp = Utc::now() + chrono::Duration::hours(1);
        let sig = sign(key, 7, "accept", exp);
        assert!(verify(key, 7, "accept", exp.timestamp(), &sig, Utc::now()).is_ok());
        assert!(verify(key, 8, "accept", exp.timestamp(), &sig, Utc::now()).is_err());
        assert!(verify(key, 7, "decline", exp.timestamp(), &sig, Utc::now()).is_err());
        assert!(verify(b"other", 7, "accept", exp.timestamp(), &sig, Utc::now()).is_err());
        assert!(verify(key, 7, "accept", exp.timestamp() + 1, &sig, Utc::now()).is_err());
        let late = exp + chrono::Duration::seconds(5);
        assert_eq!(
            verify(key, 7, "accept", exp.timestamp(), &sig, late),
            Err(EXPIRED)
        );
        assert!(verify(key, 7, "accept", exp.timestamp(), "zz", Utc::now()).is_err());
    }
}
