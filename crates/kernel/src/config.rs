//! Configuration: defaults, then an optional TOML file, then `CIVITAS_*` environment
//! variables, then command-line flags (applied by the binary).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Every setting Civitas reads. Secrets are never printed (see [`Config::redacted`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Folder for the embedded database, the generated key and other local files.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; unset means embedded SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Address the HTTP server binds to.
    pub bind: SocketAddr,
    /// Public base URL used in links and identifiers; defaults to `http://{bind}`.
    pub base_url: Option<String>,
    /// Personal-data master key: 64 hex characters (32 bytes). When unset, the key file
    /// `data_dir/secret.key` is used if present.
    pub encryption_key: Option<String>,
    /// Session lifetime in minutes.
    pub session_minutes: i64,
    /// Maximum database connections in the pool.
    pub max_connections: u32,
    /// Whether cookies are marked `Secure` (set when serving behind HTTPS).
    pub secure_cookies: bool,
    /// Base URLs of other Civitas platforms whose `did:web` issuers this one trusts
    /// (their DID documents and status lists are fetched from there), e.g.
    /// `["https://civitas.city-b.example"]`.
    pub trusted_platforms: Vec<String>,
    /// Where uploaded files are kept: a folder (default `data_dir/blobs`) or
    /// `s3://bucket/prefix` for an S3-compatible store, whose endpoint, region and keys
    /// come from the usual `AWS_*` variables (`AWS_ENDPOINT` for MinIO and the like).
    pub blob_store: Option<String>,
    /// Largest file a resident may upload, in bytes.
    pub max_upload_bytes: u64,
    /// SMTP server for e-mail notices: `smtp://host:25` (plain), `smtp://host:587?tls=required`
    /// (STARTTLS) or `smtps://user:password@host:465`; unset, no e-mail is sent.
    pub smtp_url: Option<String>,
    /// The sender of e-mail notices.
    pub email_from: String,
    /// HTTP SMS gateway: each text is POSTed there as JSON `{to, text, reference}`;
    /// unset, no SMS is sent.
    pub sms_gateway_url: Option<String>,
    /// Bearer token for the SMS gateway.
    pub sms_gateway_token: Option<String>,
    /// Write SMS and e-mail notices to the outbox table (page 发送记录) instead of sending
    /// them: for the demo and for trying the platform out.
    pub channel_outbox: bool,
    /// How many times a delivery is tried before it is marked failed.
    pub delivery_attempts: i64,
    /// Let webhooks use `http://` and point at localhost and private addresses (tests and
    /// closed networks only).
    pub webhook_allow_internal: bool,
    /// Rules packages served at `/api/v1/rules` (folders, each `DIR` or
    /// `DIR=PARAMETERS_DIR` for a port whose parameters are read from elsewhere, e.g.
    /// `rules/openfisca-country-template=/usr/lib/python3/site-packages/openfisca_country_template/parameters`).
    pub rules_packages: Vec<String>,
    /// How often, in seconds, the persons whose register data changed are evaluated
    /// again under the benefit policies (免申即享); 0 turns following off.
    pub rules_follow_seconds: u64,
    /// The MQTT broker monitoring stations publish their readings to
    /// (`mqtt://host:1883`); unset, no readings are taken over MQTT.
    pub mqtt_url: Option<String>,
    /// The first level of the MQTT topics read: readings arrive on
    /// `{mqtt_topic_prefix}/obs/{station}`.
    pub mqtt_topic_prefix: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("civitas-data"),
            database_url: None,
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            base_url: None,
            encryption_key: None,
            session_minutes: 8 * 60,
            max_connections: 16,
            secure_cookies: false,
            trusted_platforms: Vec::new(),
            blob_store: None,
            max_upload_bytes: 10 * 1024 * 1024,
            smtp_url: None,
            email_from: "Civitas <noreply@civitas.invalid>".into(),
            sms_gateway_url: None,
            sms_gateway_token: None,
            channel_outbox: false,
            delivery_attempts: 5,
            webhook_allow_internal: false,
            rules_packages: Vec::new(),
            rules_follow_seconds: 5,
            mqtt_url: None,
            mqtt_topic_prefix: "civitas".into(),
        }
    }
}

impl Config {
    /// Loads defaults, then `file` (if it exists), then `CIVITAS_*` environment variables.
    pub fn load(file: Option<&Path>) -> Result<Self, figment::Error> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        let file = file
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("civitas.toml"));
        if file.exists() {
            figment = figment.merge(Toml::file(file));
        }
        // `CIVITAS_LOG` is the log filter (read by the binary), not a setting.
        figment
            .merge(Env::prefixed("CIVITAS_").ignore(&["log"]))
            .extract()
    }

    /// The path of the generated key file inside the data folder.
    pub fn key_file(&self) -> PathBuf {
        self.data_dir.join("secret.key")
    }

    /// The base URL people and other systems use to reach this server.
    pub fn public_base_url(&self) -> String {
        self.base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
    }

    /// A copy safe to log: secrets and passwords in URLs are replaced.
    pub fn redacted(&self) -> Config {
        let mut copy = self.clone();
        copy.encryption_key = copy.encryption_key.map(|_| "***".into());
        copy.database_url = copy.database_url.map(|url| redact_url(&url));
        copy.smtp_url = copy.smtp_url.map(|url| redact_url(&url));
        copy.sms_gateway_token = copy.sms_gateway_token.map(|_| "***".into());
        copy.sms_gateway_url = copy.sms_gateway_url.map(|url| redact_url(&url));
        copy
    }
}

/// Hides the password and the query (which may carry a key) of a URL.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            if url.query().is_some() {
                url.set_query(Some("***"));
            }
            url.to_string()
        }
        _ => raw.to_string(),
    }
}
