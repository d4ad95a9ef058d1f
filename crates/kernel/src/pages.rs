//! Server-rendered pages: the request's page context (language, elder mode, user, CSRF
//! token), the shared layout every capability's page is wrapped in, translations, the
//! preferences route and the stylesheet.

use askama::Template;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use fluent_templates::{LanguageIdentifier, Loader};
use rand::RngCore;
use serde::Deserialize;

use crate::auth::{Credentials, Principal, SESSION_COOKIE, cookie, principal_of};
use crate::error::ApiError;
use crate::state::AppState;

/// Cookie holding the chosen language.
pub const LANG_COOKIE: &str = "civitas_lang";
/// Cookie holding elder mode (长辈模式).
pub const ELDER_COOKIE: &str = "civitas_elder";
/// Cookie holding the double-submit CSRF token for forms.
pub const CSRF_COOKIE: &str = "civitas_csrf";

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "zh-CN",
    };
}

/// A page language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    /// Simplified Chinese, the default.
    #[default]
    ZhCn,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag, for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Parses a tag; anything but English is Chinese.
    pub fn parse(tag: &str) -> Lang {
        if tag.to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::ZhCn
        }
    }

    /// The language identifier for Fluent look-ups.
    pub fn langid(self) -> LanguageIdentifier {
        self.tag()
            .parse()
            .unwrap_or_else(|_| LanguageIdentifier::default())
    }

    /// Picks the Chinese or the English text.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::ZhCn => zh,
            Lang::En => en,
        }
    }
}

/// Translations for one language from one crate's Fluent files; templates call
/// `t.get("key")`.
#[derive(Clone, Copy)]
pub struct Tr {
    lang: Lang,
    lookup: fn(&LanguageIdentifier, &str) -> String,
}

impl Tr {
    /// Translations with a crate's own look-up function.
    pub fn new(lang: Lang, lookup: fn(&LanguageIdentifier, &str) -> String) -> Tr {
        Tr { lang, lookup }
    }

    /// The text for `key`.
    pub fn get(&self, key: &str) -> String {
        (self.lookup)(&self.lang.langid(), key)
    }
}

fn kernel_lookup(lang: &LanguageIdentifier, key: &str) -> String {
    LOCALES.lookup(lang, key)
}

/// Defines `pub fn tr(lang) -> Tr` over the calling crate's `locales/` folder.
#[macro_export]
macro_rules! translations {
    () => {
        $crate::pages::fluent_templates::static_loader! {
            static LOCALES = {
                locales: "./locales",
                fallback_language: "zh-CN",
            };
        }

        fn lookup(lang: &$crate::pages::fluent_templates::LanguageIdentifier, key: &str) -> String {
            use $crate::pages::fluent_templates::Loader;
            LOCALES.lookup(lang, key)
        }

        /// Translations of this crate's pages for `lang`.
        pub fn tr(lang: $crate::pages::Lang) -> $crate::pages::Tr {
            $crate::pages::Tr::new(lang, lookup)
        }
    };
}

pub use fluent_templates;

/// A link in the site navigation, shown to those `visible` says.
#[derive(Clone)]
pub struct NavItem {
    /// Where it goes.
    pub href: &'static str,
    /// Label in Chinese.
    pub zh: &'static str,
    /// Label in English.
    pub en: &'static str,
    /// Who sees it.
    pub visible: fn(Option<&Principal>) -> bool,
}

/// Everything a page needs to know about the request.
#[derive(Clone)]
pub struct PageContext {
    /// Language.
    pub lang: Lang,
    /// Elder mode.
    pub elder: bool,
    /// The signed-in user, if any.
    pub user: Option<Principal>,
    /// Name of the person a proxy is acting for (display only).
    pub acting_for_name: Option<String>,
    /// CSRF token to put in every form.
    pub csrf: String,
    /// Path and query of this request (for redirects back).
    pub path: String,
    /// Navigation of the whole site.
    pub nav: std::sync::Arc<Vec<NavItem>>,
}

/// The CSRF token inserted by [`ensure_csrf_cookie`] for requests that had none.
#[derive(Clone)]
struct FreshCsrf(String);

/// Middleware: gives every browser a random CSRF cookie (double-submit pattern).
pub async fn ensure_csrf_cookie(mut request: Request, next: Next) -> Response {
    let has_cookie = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(k, v)| k == CSRF_COOKIE && !v.is_empty());
    if has_cookie {
        return next.run(request).await;
    }
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    request.extensions_mut().insert(FreshCsrf(token.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

impl FromRequestParts<AppState> for PageContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let lang = cookie(parts, LANG_COOKIE)
            .map(|l| Lang::parse(&l))
            .unwrap_or_default();
        let elder = cookie(parts, ELDER_COOKIE).is_some_and(|v| v == "1");
        let csrf = parts
            .extensions
            .get::<FreshCsrf>()
            .map(|f| f.0.clone())
            .or_else(|| cookie(parts, CSRF_COOKIE))
            .unwrap_or_default();
        // An expired session just means "not signed in"; a lapsed proxy authorisation
        // means signed in as oneself again.
        let user = match principal_of(parts, state, Credentials::Cookie).await {
            Ok(user) => user,
            Err(_) => {
                let mut own = parts.clone();
                own.headers.remove(header::COOKIE);
                if let Some(session) = cookie(parts, SESSION_COOKIE)
                    && let Ok(v) = HeaderValue::from_str(&format!("{SESSION_COOKIE}={session}"))
                {
                    own.headers.insert(header::COOKIE, v);
                }
                principal_of(&own, state, Credentials::Cookie)
                    .await
                    .ok()
                    .flatten()
            }
        };
        Ok(PageContext {
            lang,
            elder,
            user,
            acting_for_name: None,
            csrf,
            path: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            nav: state.nav.clone(),
        })
    }
}

/// What a page handler returns: a response, or an error response (also a page).
pub type PageResult = Result<Response, Response>;

#[derive(Template)]
#[template(path = "layout.html")]
struct Layout<'a> {
    ctx: &'a PageContext,
    t: Tr,
    title: &'a str,
    body: &'a str,
    nav: Vec<(&'static str, &'static str, bool)>,
    back: String,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorBody<'a> {
    t: Tr,
    status: u16,
    detail: &'a str,
}

impl PageContext {
    /// Translations of the kernel's own strings.
    pub fn kernel_tr(&self) -> Tr {
        Tr::new(self.lang, kernel_lookup)
    }

    /// Picks the Chinese or English text.
    pub fn pick<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(zh, en)
    }

    /// The signed-in user, or a redirect to the login page that comes back here.
    pub fn user(&self) -> Result<&Principal, Response> {
        self.user.as_ref().ok_or_else(|| {
            Redirect::to(&format!("/login?next={}", urlencode(&self.path))).into_response()
        })
    }

    /// Fails with the error page unless the form's token matches the CSRF cookie.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), Response> {
        let matches = !self.csrf.is_empty()
            && submitted.len() == self.csrf.len()
            && submitted
                .bytes()
                .zip(self.csrf.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if matches {
            Ok(())
        } else {
            Err(self.error(ApiError::Forbidden(
                self.pick(
                    "表单已过期，请返回并重新提交。",
                    "This form has expired. Go back and submit it again.",
                )
                .into(),
            )))
        }
    }

    /// Wraps `body` (already-escaped HTML) in the site layout.
    pub fn render(&self, title: &str, body: &str) -> Response {
        self.render_status(StatusCode::OK, title, body)
    }

    /// Like [`render`](Self::render), with a status code (e.g. 400 for a form with errors).
    pub fn render_status(&self, status: StatusCode, title: &str, body: &str) -> Response {
        let user = self.user.as_ref();
        let nav = self
            .nav
            .iter()
            .filter(|item| (item.visible)(user))
            .map(|item| {
                let current = self.path.split('?').next() == Some(item.href);
                (item.href, self.pick(item.zh, item.en), current)
            })
            .collect();
        let page = Layout {
            ctx: self,
            t: self.kernel_tr(),
            title,
            body,
            nav,
            back: urlencode(&self.path),
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(error) => {
                tracing::error!(%error, "layout failed to render");
                (StatusCode::INTERNAL_SERVER_ERROR, "page failed to render").into_response()
            }
        }
    }

    /// An error page for `error`, with its status.
    pub fn error(&self, error: ApiError) -> Response {
        if let ApiError::Unexpected(e) = &error {
            tracing::error!(error = %format!("{e:#}"), "unexpected error on a page");
        }
        if matches!(error, ApiError::Unauthenticated(_)) && self.user.is_none() {
            return Redirect::to(&format!("/login?next={}", urlencode(&self.path))).into_response();
        }
        let detail = error.public_detail();
        let body = ErrorBody {
            t: self.kernel_tr(),
            status: error.status().as_u16(),
            detail: &detail,
        }
        .render()
        .unwrap_or_default();
        self.render_status(error.status(), &self.kernel_tr().get("error-title"), &body)
    }
}

/// Percent-encodes a value for use in a query string.
pub fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A local path to return to: only same-site absolute paths are accepted.
pub fn safe_back(back: Option<&str>) -> String {
    match back {
        Some(b)
            if b.starts_with('/')
                && !b.starts_with("//")
                && b.len() <= 2048
                && b.chars()
                    .all(|c| !c.is_control() && !c.is_whitespace() && c != '\\') =>
        {
            b.to_string()
        }
        _ => "/".to_string(),
    }
}

/// `GET /prefs?lang=en|zh-CN&elder=on|off&back=/path`.
#[derive(Deserialize)]
pub struct PrefsQuery {
    lang: Option<String>,
    elder: Option<String>,
    back: Option<String>,
}

/// Sets the language and elder-mode cookies and goes back where the person was.
pub async fn prefs(axum::extract::Query(q): axum::extract::Query<PrefsQuery>) -> Response {
    let mut response = Redirect::to(&safe_back(q.back.as_deref())).into_response();
    let year = 60 * 60 * 24 * 365;
    let mut set = |name: &str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{name}={value}; Path=/; Max-Age={year}; SameSite=Lax"
        )) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    };
    if let Some(lang) = q.lang.as_deref() {
        set(LANG_COOKIE, Lang::parse(lang).tag());
    }
    match q.elder.as_deref() {
        Some("on") | Some("1") => set(ELDER_COOKIE, "1"),
        Some(_) => set(ELDER_COOKIE, "0"),
        None => {}
    }
    response
}

/// The site stylesheet (GOV.UK-inspired; elder mode enlarges and raises contrast).
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/civitas.css"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_back;

    #[test]
    fn back_links_stay_on_this_site() {
        assert_eq!(safe_back(Some("/me?x=1")), "/me?x=1");
        for bad in [
            "//evil.com",
            "/\t/evil.com",
            "/\\evil.com",
            "https://evil.com",
            "/\n/x",
            "/ /evil",
        ] {
            assert_eq!(safe_back(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_back(None), "/");
    }
}
