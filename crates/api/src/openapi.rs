//! The OpenAPI document: every path with its parameters' patterns and
//! the problem responses, the bearer scheme (made by utoipa from the
//! handlers' annotations; served at `/api/v1/openapi.json`).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{
    ID_PATTERN, api_admin, api_cover, api_net, api_notify, api_public, api_requests, api_rota,
    api_swaps,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Touban API", description = "On-call and absence-cover scheduling for regional healthcare networks (当番). Errors are RFC 9457 problem details.", version = "1"),
    paths(
        api_public::health, api_public::oncall, api_public::patient_list, api_public::feed,
        api_net::regions, api_net::institutions, api_net::services, api_net::staff, api_net::staff_member,
        api_net::attending_pairs, api_requests::list, api_requests::create, api_requests::withdraw, api_net::absences, api_net::add_absence,
        api_rota::generate, api_rota::job, api_rota::months, api_rota::versions, api_rota::rota, api_rota::publish,
        api_rota::diff, api_rota::edit,
        api_cover::create, api_cover::list, api_cover::get_one, api_cover::cancel, api_cover::my_offers,
        api_cover::accept, api_cover::decline, api_cover::respond_page, api_cover::respond,
        api_admin::tokens, api_admin::create_token, api_admin::revoke_token,
        api_admin::staff_feed, api_admin::service_feed, api_admin::viewing_key, api_admin::audit,
        api_notify::list, api_notify::get_one, api_notify::retry,
        api_swaps::partners, api_swaps::propose, api_swaps::list, api_swaps::get_one, api_swaps::accept,
        api_swaps::decline, api_swaps::withdraw, api_swaps::approve, api_swaps::refuse,
    ),
    modifiers(&Bearer, &ProblemResponses),
    tags(
        (name = "public", description = "No token needed"),
        (name = "network", description = "Regions, institutions, staff, services"),
        (name = "absences", description = "Absences and the repairs they trigger"),
        (name = "requests", description = "Staff's on/off requests for a month"),
        (name = "swaps", description = "Swaps and give-aways of duties between staff"),
        (name = "rotas", description = "Generating, publishing and editing rotas"),
        (name = "cover", description = "Emergency cover requests (代診・応援要請)"),
        (name = "feeds", description = "Calendar feeds"),
        (name = "admin", description = "Tokens and the audit log"),
        (name = "notices", description = "E-mail notices and their delivery state"),
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// What the spec says of error answers, to match the server: every error
/// is `application/problem+json` (RFC 9457); any call can answer 400 (a
/// value it cannot read) and 401 (a bad Authorization header); an operation
/// with a body can answer 413 (too large) and 415 (not `application/json`);
/// a change can answer 409 (it conflicts with what is stored); any call can
/// answer 429 (rate limit) and 503 (database busy, or the request took too
/// long), each with `Retry-After`.
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = || {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build()
        };
        let answer = |d: &str| {
            ResponseBuilder::new()
                .description(d)
                .content("application/problem+json", problem())
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                (&mut item.get, false),
                (&mut item.put, true),
                (&mut item.post, true),
                (&mut item.delete, true),
                (&mut item.patch, true),
            ];
            for (op, changes) in ops {
                let Some(op) = op.as_mut() else { continue };
                for prm in op.parameters.iter_mut().flatten() {
                    constrain(prm);
                }
                let rs = &mut op.responses.responses;
                for (code, r) in rs.iter_mut() {
                    let error = code.starts_with('4') || code.starts_with('5');
                    if let (true, utoipa::openapi::RefOr::T(r)) = (error, r)
                        && let Some(c) = r.content.shift_remove("application/json")
                    {
                        r.content.insert("application/problem+json".into(), c);
                    }
                }
                let mut add = |code: &str, d: &str| {
                    rs.entry(code.into()).or_insert_with(|| answer(d).into());
                };
                // Any call: a path or query value that cannot be read; a
                // bad Authorization header (even on public calls).
                add("400", "A path or query value, or the body, cannot be read");
                add("401", "The Authorization header is not a valid token");
                if op.request_body.is_some() {
                    add(
                        "408",
                        "The body stopped arriving before its announced length: nothing was changed",
                    );
                    add("413", "The body is over the size limit");
                    add(
                        "415",
                        "The body is not sent as `Content-Type: application/json`",
                    );
                }
                if changes {
                    add(
                        "409",
                        "The change conflicts with what is stored now (the detail says what)",
                    );
                }
                add(
                    "429",
                    "Too many requests from this client: wait for `Retry-After` seconds",
                );
                add(
                    "503",
                    "The database is busy or the request took too long: nothing was changed; retry after `Retry-After` seconds",
                );
            }
        }
    }
}

/// The server's own rules for path and query values, in the spec: ids
/// (`touban_domain::id::check_slug`), months, versions.
fn constrain(p: &mut utoipa::openapi::path::Parameter) {
    use utoipa::openapi::{RefOr, Schema};
    let Some(RefOr::T(Schema::Object(o))) = p.schema.as_mut() else {
        return;
    };
    match p.name.as_str() {
        "region" | "staff" | "service" | "institution" => {
            o.pattern = Some(ID_PATTERN.into());
        }
        // Years 1900–2200 (`Month::new`).
        "month" => o.pattern = Some(r"^(19[0-9]{2}|2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])$".into()),
        // A cursor is the `next` of the page before: never empty.
        "after" => o.min_length = Some(1),
        "at" => {
            o.format = Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::DateTime,
            ))
        }
        "version" => o.minimum = Some(1.into()),
        _ => {}
    }
}
