//! Atom (RFC 4287) and RSS 2.0 feeds of alerts, each entry linking to its CAP document, as
//! alert aggregators (Google Public Alerts, the WMO register, Meteoalarm) read them.

use quick_xml::escape::escape;
use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

/// One alert in a feed.
pub struct FeedEntry {
    /// A stable, unique id (a URL or URN).
    pub id: String,
    /// The headline (or the event).
    pub title: String,
    /// What it says, in short.
    pub summary: String,
    /// When it was sent or last changed.
    pub updated: OffsetDateTime,
    /// The CAP document's address.
    pub cap_url: String,
}

/// A feed's own description.
pub struct Feed {
    /// The feed's id (its address).
    pub id: String,
    /// Its title.
    pub title: String,
    /// The page people read alerts on.
    pub home: String,
    /// Its entries, newest first.
    pub entries: Vec<FeedEntry>,
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// The feed as Atom.
pub fn atom(feed: &Feed) -> String {
    let updated = feed
        .entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    out.push_str(&format!("  <id>{}</id>\n", escape(&feed.id)));
    out.push_str(&format!("  <title>{}</title>\n", escape(&feed.title)));
    out.push_str(&format!("  <updated>{}</updated>\n", rfc3339(updated)));
    out.push_str(&format!(
        "  <link rel=\"self\" href=\"{}\"/>\n  <link rel=\"alternate\" href=\"{}\"/>\n",
        escape(&feed.id),
        escape(&feed.home)
    ));
    out.push_str("  <author><name>Civitas</name></author>\n");
    for entry in &feed.entries {
        out.push_str("  <entry>\n");
        out.push_str(&format!("    <id>{}</id>\n", escape(&entry.id)));
        out.push_str(&format!("    <title>{}</title>\n", escape(&entry.title)));
        out.push_str(&format!(
            "    <updated>{}</updated>\n",
            rfc3339(entry.updated)
        ));
        out.push_str(&format!(
            "    <link rel=\"alternate\" type=\"application/cap+xml\" href=\"{}\"/>\n",
            escape(&entry.cap_url)
        ));
        out.push_str(&format!(
            "    <summary>{}</summary>\n",
            escape(&entry.summary)
        ));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

/// The feed as RSS 2.0.
pub fn rss(feed: &Feed) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<rss version=\"2.0\">\n  <channel>\n");
    out.push_str(&format!("    <title>{}</title>\n", escape(&feed.title)));
    out.push_str(&format!("    <link>{}</link>\n", escape(&feed.home)));
    out.push_str(&format!(
        "    <description>{}</description>\n",
        escape(&feed.title)
    ));
    for entry in &feed.entries {
        out.push_str("    <item>\n");
        out.push_str(&format!("      <title>{}</title>\n", escape(&entry.title)));
        out.push_str(&format!("      <link>{}</link>\n", escape(&entry.cap_url)));
        out.push_str(&format!(
            "      <guid isPermaLink=\"false\">{}</guid>\n",
            escape(&entry.id)
        ));
        out.push_str(&format!(
            "      <pubDate>{}</pubDate>\n",
            entry.updated.format(&Rfc2822).unwrap_or_default()
        ));
        out.push_str(&format!(
            "      <description>{}</description>\n",
            escape(&entry.summary)
        ));
        out.push_str("    </item>\n");
    }
    out.push_str("  </channel>\n</rss>\n");
    out
}
