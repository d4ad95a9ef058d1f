//! Delivery channels: one adapter per way a notice leaves the platform. SMS goes to an
//! HTTP gateway, e-mail over SMTP (`lettre`), webhooks to organisations' systems signed
//! with HMAC-SHA256, and in the demo SMS and e-mail are written to the outbox table.
//! Which channels exist is read from the configuration once, at start.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use kernel::config::Config;
use kernel::db::Db;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sha2::Sha256;

use crate::store;

/// A channel's name in the delivery log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// A text message to the resident's registered phone.
    Sms,
    /// An e-mail to the address the resident gave.
    Email,
    /// A signed POST to an organisation's system.
    Webhook,
}

impl ChannelKind {
    /// The name stored in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Sms => "sms",
            ChannelKind::Email => "email",
            ChannelKind::Webhook => "webhook",
        }
    }

    /// Parses a stored or requested name.
    pub fn parse(raw: &str) -> Option<ChannelKind> {
        match raw {
            "sms" => Some(ChannelKind::Sms),
            "email" => Some(ChannelKind::Email),
            "webhook" => Some(ChannelKind::Webhook),
            _ => None,
        }
    }
}

/// What one delivery sends.
pub struct Outgoing<'a> {
    /// The notice.
    pub message_id: &'a str,
    /// The person or webhook it goes to.
    pub recipient: &'a str,
    /// Phone number, e-mail address or URL.
    pub address: &'a str,
    /// The address as logs may show it.
    pub address_masked: &'a str,
    /// Sending organisation's name.
    pub sender_name: &'a str,
    /// Subject.
    pub subject: &'a str,
    /// Text.
    pub body: &'a str,
    /// Where the resident reads it on the site.
    pub link: &'a str,
    /// Webhooks: the JSON to post and the signing secret.
    pub webhook: Option<(&'a str, &'a [u8])>,
}

/// Why a delivery did not go through.
#[derive(Debug)]
pub enum Failure {
    /// Worth trying again later (timeouts, 5xx, 429, a busy mail server).
    Retry(String),
    /// Will never work (a refused address, a 4xx answer).
    Permanent(String),
}

/// One way of sending; `Ok` carries the provider's reference, if it gave one.
#[async_trait::async_trait]
pub trait Channel: Send + Sync {
    /// Sends one delivery.
    async fn send(&self, out: &Outgoing<'_>) -> Result<Option<String>, Failure>;
}

/// The longest SMS text sent (longer notices are cut, with the link to the rest).
const SMS_MAX_CHARS: usize = 300;

/// The SMS text: 【sender】subject：body…, then the link.
pub fn sms_text(out: &Outgoing<'_>) -> String {
    let mut text = format!("【{}】{}：{}", out.sender_name, out.subject, out.body);
    let tail = format!(" 详见 {}", out.link);
    let room = SMS_MAX_CHARS.saturating_sub(tail.chars().count());
    if text.chars().count() > room {
        text = text
            .chars()
            .take(room.saturating_sub(1))
            .collect::<String>()
            + "…";
    }
    text + &tail
}

fn http_failure(status: reqwest::StatusCode, what: &str) -> Failure {
    use reqwest::StatusCode as S;
    let detail = format!("{what} answered {status}");
    // A busy or failing peer, a timeout, or credentials that may be put right: try again.
    if status.is_server_error()
        || matches!(
            status,
            S::TOO_MANY_REQUESTS | S::REQUEST_TIMEOUT | S::UNAUTHORIZED | S::FORBIDDEN
        )
    {
        Failure::Retry(detail)
    } else {
        Failure::Permanent(detail)
    }
}

/// A transport error without the URL it was for (a gateway's key or another
/// organisation's webhook address must not reach the delivery log).
fn unreachable(what: &str, e: reqwest::Error) -> Failure {
    Failure::Retry(format!("{what} unreachable: {}", e.without_url()))
}

/// An SMTP server's answer with the addresses in it masked.
fn masked(text: &str) -> String {
    text.split_inclusive(|c: char| c.is_whitespace() || c == '<' || c == '>')
        .map(|word| {
            let core = word.trim_end_matches(|c: char| c.is_whitespace() || c == '<' || c == '>');
            if core.contains('@') {
                word.replacen(core, &crate::service::mask_email(core), 1)
            } else {
                word.to_string()
            }
        })
        .collect()
}

/// An HTTP SMS gateway: `POST {url}` with `{"to", "text", "reference"}` and a bearer
/// token; any 2xx is accepted, and an `id` in its JSON answer is kept as the reference.
pub struct SmsGateway {
    client: reqwest::Client,
    url: String,
    token: Option<String>,
}

#[async_trait::async_trait]
impl Channel for SmsGateway {
    async fn send(&self, out: &Outgoing<'_>) -> Result<Option<String>, Failure> {
        let reference = format!("{}:{}", out.message_id, out.recipient);
        let mut request = self.client.post(&self.url).json(&serde_json::json!({
            "to": out.address,
            "text": sms_text(out),
            "reference": reference,
        }));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| unreachable("the SMS gateway", e))?;
        if !response.status().is_success() {
            return Err(http_failure(response.status(), "the SMS gateway"));
        }
        let answer: serde_json::Value = response.json().await.unwrap_or_default();
        Ok(answer.get("id").and_then(|v| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }))
    }
}

/// E-mail over SMTP.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

#[async_trait::async_trait]
impl Channel for Smtp {
    async fn send(&self, out: &Outgoing<'_>) -> Result<Option<String>, Failure> {
        let to: Mailbox = out
            .address
            .parse()
            .map_err(|e| Failure::Permanent(format!("not an e-mail address: {e}")))?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!("【{}】{}", out.sender_name, out.subject))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(format!(
                "{}\n\n{}\n{}\n",
                out.body, "在网上查看 / Read it online:", out.link
            ))
            .map_err(|e| Failure::Permanent(format!("cannot build the e-mail: {e}")))?;
        match self.transport.send(email).await {
            Ok(response) => Ok(response.message().next().map(str::to_string)),
            Err(e) if e.is_permanent() => Err(Failure::Permanent(format!(
                "refused: {}",
                masked(&e.to_string())
            ))),
            Err(e) => Err(Failure::Retry(format!("SMTP: {}", masked(&e.to_string())))),
        }
    }
}

/// Webhooks: `POST {url}` with the notice as JSON and the headers
/// `X-Civitas-Timestamp: {unix seconds}` and
/// `X-Civitas-Signature: v1={hex HMAC-SHA256(secret, "{timestamp}.{body}")}`.
pub struct Webhooks {
    client: reqwest::Client,
}

/// The signature a webhook receiver checks: hex HMAC-SHA256 of `{timestamp}.{body}`.
pub fn webhook_signature(secret: &[u8], timestamp: i64, body: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[async_trait::async_trait]
impl Channel for Webhooks {
    async fn send(&self, out: &Outgoing<'_>) -> Result<Option<String>, Failure> {
        let Some((payload, secret)) = out.webhook else {
            return Err(Failure::Permanent("no webhook payload".into()));
        };
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let response = self
            .client
            .post(out.address)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Civitas-Event", "message")
            .header("X-Civitas-Timestamp", timestamp.to_string())
            .header(
                "X-Civitas-Signature",
                format!("v1={}", webhook_signature(secret, timestamp, payload)),
            )
            .body(payload.to_string())
            .send()
            .await
            .map_err(|e| unreachable("the webhook", e))?;
        if response.status().is_success() {
            Ok(None)
        } else {
            Err(http_failure(response.status(), "the webhook"))
        }
    }
}

/// The demo's channel: writes what would be sent to `message_outbox`, address masked.
pub struct Outbox {
    db: Db,
    kind: ChannelKind,
}

#[async_trait::async_trait]
impl Channel for Outbox {
    async fn send(&self, out: &Outgoing<'_>) -> Result<Option<String>, Failure> {
        let text = match self.kind {
            ChannelKind::Sms => sms_text(out),
            _ => format!("{}\n\n{}", out.body, out.link),
        };
        store::insert_outbox(
            &self.db,
            out.message_id,
            self.kind.as_str(),
            out.recipient,
            out.address_masked,
            out.subject,
            &text,
        )
        .await
        .map_err(|e| Failure::Retry(format!("outbox: {e}")))?;
        Ok(None)
    }
}

/// A shared channel adapter.
type Adapter = Arc<dyn Channel>;

/// The channels this platform delivers through, and the bell that wakes the worker.
pub struct Channels {
    /// SMS, when a gateway (or the outbox) is configured.
    pub sms: Option<Arc<dyn Channel>>,
    /// E-mail, when an SMTP server (or the outbox) is configured.
    pub email: Option<Arc<dyn Channel>>,
    /// Webhooks (always available: organisations register their own).
    pub webhook: Arc<dyn Channel>,
    /// Rung after a notice with deliveries commits.
    pub wake: tokio::sync::Notify,
}

impl Channels {
    /// The channels the configuration names.
    pub fn from_config(config: &Config, db: &Db) -> anyhow::Result<Channels> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let outbox = |kind| -> Arc<dyn Channel> {
            Arc::new(Outbox {
                db: db.clone(),
                kind,
            })
        };
        let (sms, email): (Option<Adapter>, Option<Adapter>) = if config.channel_outbox {
            (
                Some(outbox(ChannelKind::Sms)),
                Some(outbox(ChannelKind::Email)),
            )
        } else {
            let sms = config.sms_gateway_url.as_ref().map(|url| {
                Arc::new(SmsGateway {
                    client: client.clone(),
                    url: url.clone(),
                    token: config.sms_gateway_token.clone(),
                }) as Arc<dyn Channel>
            });
            let email = match &config.smtp_url {
                Some(url) => {
                    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                        .map_err(|e| anyhow::anyhow!("smtp_url: {e}"))?
                        .timeout(Some(Duration::from_secs(10)))
                        .build();
                    let from: Mailbox = config
                        .email_from
                        .parse()
                        .map_err(|e| anyhow::anyhow!("email_from: {e}"))?;
                    Some(Arc::new(Smtp { transport, from }) as Arc<dyn Channel>)
                }
                None => None,
            };
            (sms, email)
        };
        Ok(Channels {
            sms,
            email,
            webhook: Arc::new(Webhooks { client }),
            wake: tokio::sync::Notify::new(),
        })
    }

    /// The adapter for a channel, if configured.
    pub fn get(&self, kind: ChannelKind) -> Option<&Arc<dyn Channel>> {
        match kind {
            ChannelKind::Sms => self.sms.as_ref(),
            ChannelKind::Email => self.email.as_ref(),
            ChannelKind::Webhook => Some(&self.webhook),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing<'a>(body: &'a str) -> Outgoing<'a> {
        Outgoing {
            message_id: "m",
            recipient: "p",
            address: "13800138000",
            address_masked: "138****8000",
            sender_name: "市应急管理局",
            subject: "暴雨预警",
            body,
            link: "https://civitas.example/me/inbox/m",
            webhook: None,
        }
    }

    #[test]
    fn sms_texts_are_cut_but_keep_the_link() {
        let short = sms_text(&outgoing("请减少外出。"));
        assert_eq!(
            short,
            "【市应急管理局】暴雨预警：请减少外出。 详见 https://civitas.example/me/inbox/m"
        );
        let long = sms_text(&outgoing(&"雨".repeat(1_000)));
        assert_eq!(long.chars().count(), SMS_MAX_CHARS);
        assert!(long.ends_with("详见 https://civitas.example/me/inbox/m"));
        assert!(long.contains("…"));
    }

    #[test]
    fn smtp_answers_lose_their_addresses() {
        assert_eq!(
            masked("550 5.1.1 <alice@example.cn>: Recipient address rejected"),
            "550 5.1.1 <a***@example.cn>: Recipient address rejected"
        );
        assert_eq!(masked("421 busy"), "421 busy");
    }

    #[test]
    fn webhook_signatures_are_hmac_sha256_of_timestamp_and_body() {
        // The signed message is "{timestamp}.{body}".
        let sig = webhook_signature(b"Jefe", 1, "what do ya want for nothing?");
        assert_eq!(sig.len(), 64);
        assert_ne!(
            sig,
            webhook_signature(b"Jefe", 2, "what do ya want for nothing?")
        );
        assert_ne!(
            sig,
            webhook_signature(b"Jeff", 1, "what do ya want for nothing?")
        );
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"1.what do ya want for nothing?");
        assert_eq!(sig, hex::encode(mac.finalize().into_bytes()));
    }
}
