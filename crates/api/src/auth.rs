//! Bearer tokens: random, shown once, stored as an argon2 hash. A token is
//! `ID.SECRET`; the id finds the stored hash, the secret is verified against
//! it. Verified tokens are remembered for a short time (keyed by a SHA-256 of
//! the whole token, never the token itself), so a busy client does not pay
//! for argon2 on every request; revoking through this server forgets them at
//! once, revoking from another process takes effect within that time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use sha2::{Digest, Sha256};
use touban_domain::{InstitutionId, RegionId, StaffId};
use touban_store::{Grant, Store, StoreError};

use crate::error::Problem;

/// Who is calling, once their token has been verified.
#[derive(Debug, Clone)]
pub struct Caller {
    pub credential: String,
    pub grant: Grant,
}

impl Caller {
    /// How the caller appears in the audit log and rota history.
    pub fn actor(&self) -> String {
        format!("{}:{}", self.grant.role(), self.credential)
    }

    pub fn is_admin(&self) -> bool {
        matches!(self.grant, Grant::Admin)
    }

    /// Whether the caller belongs to (or administers) a region. Callers of
    /// other regions get 404, not 403, so ids cannot be probed.
    pub fn in_region(&self, region: &RegionId) -> Result<(), Problem> {
        match self.grant.region() {
            None => Ok(()),
            Some(r) if r == region => Ok(()),
            Some(_) => Err(Problem::not_found(format!("region \"{region}\""))),
        }
    }

    /// Admin, or coordinator of the region.
    pub fn coordinates(&self, region: &RegionId) -> Result<(), Problem> {
        self.in_region(region)?;
        match &self.grant {
            Grant::Admin | Grant::Coordinator { .. } => Ok(()),
            _ => Err(Problem::forbidden(
                "only the region's coordinators (or an admin) may do this",
            )),
        }
    }

    pub fn institution(&self) -> Option<&InstitutionId> {
        match &self.grant {
            Grant::Institution { institution, .. } => Some(institution),
            _ => None,
        }
    }

    pub fn staff(&self) -> Option<&StaffId> {
        match &self.grant {
            Grant::Staff { staff, .. } => Some(staff),
            _ => None,
        }
    }

    pub fn is_coordinator(&self) -> bool {
        matches!(self.grant, Grant::Admin | Grant::Coordinator { .. })
    }
}

pub use touban_app::tokens::{
    EMAIL_FEED_LABEL, IssuedToken, derived_secret, hex, issue_derived, random_bytes,
};

/// Makes a token for `grant` (see [`touban_app::tokens::issue`]).
pub fn issue(grant: Grant, label: &str, created_by: &str) -> Result<IssuedToken, Problem> {
    Ok(touban_app::tokens::issue(grant, label, created_by)?)
}

fn fingerprint(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Verified tokens, remembered for `ttl`.
#[derive(Debug)]
pub struct Verifier {
    ttl: Duration,
    seen: Mutex<HashMap<[u8; 32], (Caller, Instant)>>,
}

impl Verifier {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets every remembered verification of a credential.
    pub fn forget(&self, credential: &str) {
        if let Ok(mut m) = self.seen.lock() {
            m.retain(|_, (c, _)| c.credential != credential);
        }
    }

    /// Checks a presented token; `feed` says which kind is expected. Every
    /// failure reads the same to the caller.
    pub async fn verify(
        &self,
        store: &dyn Store,
        token: &str,
        feed: bool,
    ) -> Result<Caller, Problem> {
        let denied = || {
            Problem::unauthorized(
                "the token is not valid: it is malformed, unknown, revoked, or of the wrong kind",
            )
        };
        let fp = fingerprint(token);
        let remembered = self.seen.lock().ok().and_then(|m| {
            m.get(&fp)
                .filter(|(_, at)| at.elapsed() < self.ttl)
                .map(|(c, _)| c.clone())
        });
        if let Some(c) = remembered {
            // The secret's check (Argon2, slow on purpose) is remembered;
            // revocation is not: it is read each time, so that a token
            // revoked by the web app, the CLI or another server stops at
            // once.
            return match store.credential(&c.credential).await {
                Ok(cred) if cred.revoked_at.is_none() => Ok(c),
                Ok(_) | Err(StoreError::NotFound(_)) => {
                    self.forget(&c.credential);
                    Err(denied())
                }
                Err(e) => Err(e.into()),
            };
        }
        let (id, secret) = token.split_once('.').ok_or_else(denied)?;
        if id.len() > 64 || secret.len() > 128 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(denied());
        }
        let cred = match store.credential(id).await {
            Ok(c) => c,
            Err(StoreError::NotFound(_)) => return Err(denied()),
            Err(e) => return Err(e.into()),
        };
        if cred.revoked_at.is_some() || cred.grant.is_feed() != feed {
            return Err(denied());
        }
        let hash = cred.secret_hash.clone();
        let secret = secret.to_string();
        let ok = if hash.starts_with(touban_app::tokens::FAST_HASH) {
            touban_app::tokens::fast_hash_matches(&hash, &secret)
        } else {
            tokio::task::spawn_blocking(move || {
                PasswordHash::new(&hash)
                    .map(|h| {
                        Argon2::default()
                            .verify_password(secret.as_bytes(), &h)
                            .is_ok()
                    })
                    .unwrap_or(false)
            })
            .await
            .map_err(Problem::internal)?
        };
        if !ok {
            return Err(denied());
        }
        let caller = Caller {
            credential: cred.id,
            grant: cred.grant,
        };
        if let Ok(mut m) = self.seen.lock() {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(fp, (caller.clone(), Instant::now()));
        }
        Ok(caller)
    }
}

/// Turns a role, a region and a scope into a grant, checking that the
/// region, institution or staff member exists. Errors name the field
/// (`region`, `scope`, `role`) and what is wrong.
pub async fn grant(
    store: &dyn Store,
    role: &str,
    region: Option<&str>,
    scope: Option<&str>,
) -> Result<Grant, (&'static str, String)> {
    let region_id = || -> Result<RegionId, (&'static str, String)> {
        let r = region.ok_or(("region", format!("a {role} token needs a region")))?;
        RegionId::parse(r).map_err(|e| ("region", e.message))
    };
    // What the role does not take is refused, not ignored (a region on an
    // admin token would read as a limit it does not have).
    if region.is_some() && role == "admin" {
        return Err(("region", "an admin token takes no region".into()));
    }
    if scope.is_some() && matches!(role, "admin" | "coordinator" | "viewer") {
        return Err(("scope", format!("a {role} token takes no scope")));
    }
    let scope = || scope.ok_or(("scope", format!("a {role} token needs a scope")));
    let g = match role {
        "admin" => Grant::Admin,
        "coordinator" => Grant::Coordinator {
            region: region_id()?,
        },
        "institution" => Grant::Institution {
            region: region_id()?,
            institution: InstitutionId::parse(scope()?).map_err(|e| ("scope", e.message))?,
        },
        "staff" => Grant::Staff {
            region: region_id()?,
            staff: StaffId::parse(scope()?).map_err(|e| ("scope", e.message))?,
        },
        "viewer" => Grant::Viewer {
            region: region_id()?,
        },
        other => {
            return Err((
                "role",
                format!(
                    "\"{other}\" is not a role (admin, coordinator, institution, staff, viewer)"
                ),
            ));
        }
    };
    if let Some(r) = g.region() {
        let net = store
            .load_network(r)
            .await
            .map_err(|_| ("region", format!("no region \"{r}\"")))?;
        match &g {
            Grant::Institution { institution, .. } if net.institution(institution).is_none() => {
                return Err((
                    "scope",
                    format!("no institution \"{institution}\" in region \"{r}\""),
                ));
            }
            Grant::Staff { staff, .. } if net.staff_member(staff).is_none() => {
                return Err((
                    "scope",
                    format!("no staff member \"{staff}\" in region \"{r}\""),
                ));
            }
            _ => {}
        }
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = issue(Grant::Admin, "a", "test").unwrap();
        let b = issue(Grant::Admin, "b", "test").unwrap();
        assert_ne!(a.token, b.token);
        assert!(a.token.starts_with("tk"));
        let secret = a.token.split_once('.').unwrap().1;
        assert!(!a.credential.secret_hash.contains(secret));
        assert!(a.credential.secret_hash.starts_with("$argon2id$"));
        let h = PasswordHash::new(&a.credential.secret_hash).unwrap();
        assert!(
            Argon2::default()
                .verify_password(secret.as_bytes(), &h)
                .is_ok()
        );
        assert!(Argon2::default().verify_password(b"guess", &h).is_err());
    }
}
