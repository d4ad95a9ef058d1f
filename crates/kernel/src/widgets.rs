//! Page building blocks every capability uses, so all pages look and behave alike:
//! a form with an error summary (GOV.UK pattern), a table, a summary list, a pager.

use askama::Template;

use crate::error::ApiError;
use crate::pages::PageContext;

/// What kind of input a form field is.
#[derive(Clone, Debug)]
pub enum FieldKind {
    /// One line of text.
    Text,
    /// A password.
    Password,
    /// A choice from (value, label) pairs.
    Select(Vec<(String, String)>),
    /// Several choices from (value, label) pairs.
    Checkboxes(Vec<(String, String)>),
    /// A date (`YYYY-MM-DD`).
    Date,
    /// Yes or no.
    Checkbox,
    /// Several lines of text.
    TextArea,
}

/// One form field.
#[derive(Clone, Debug)]
pub struct Field {
    /// Input name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Hint under the label.
    pub hint: Option<String>,
    /// Kind of input.
    pub kind: FieldKind,
    /// Current value(s) (several for checkboxes).
    pub values: Vec<String>,
    /// Error to show at the field.
    pub error: Option<String>,
    /// `autocomplete` attribute.
    pub autocomplete: Option<&'static str>,
}

impl Field {
    /// A text field.
    pub fn text(name: &str, label: &str) -> Field {
        Field {
            name: name.into(),
            label: label.into(),
            hint: None,
            kind: FieldKind::Text,
            values: Vec::new(),
            error: None,
            autocomplete: None,
        }
    }

    /// A field of another kind.
    pub fn of(name: &str, label: &str, kind: FieldKind) -> Field {
        Field {
            kind,
            ..Field::text(name, label)
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: &str) -> Field {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the value.
    pub fn value(mut self, value: &str) -> Field {
        self.values = vec![value.to_string()];
        self
    }

    /// Sets the autocomplete attribute.
    pub fn autocomplete(mut self, token: &'static str) -> Field {
        self.autocomplete = Some(token);
        self
    }

    /// The first value.
    pub fn first_value(&self) -> &str {
        self.values.first().map(String::as_str).unwrap_or("")
    }

    /// Whether `option` is among the values.
    pub fn has_value(&self, option: &str) -> bool {
        self.values.iter().any(|v| v == option)
    }
}

/// A form: fields, a submit button, and the errors of the last attempt.
#[derive(Template, Clone, Debug)]
#[template(path = "form.html")]
pub struct Form {
    /// Where it posts.
    pub action: String,
    /// Fields in order.
    pub fields: Vec<Field>,
    /// Submit button label.
    pub submit: String,
    /// CSRF token.
    pub csrf: String,
    /// Heading of the error summary.
    pub error_heading: String,
    /// Errors not tied to a field.
    pub general_errors: Vec<String>,
}

impl Form {
    /// A form posting to `action`.
    pub fn new(ctx: &PageContext, action: &str, submit: &str, fields: Vec<Field>) -> Form {
        Form {
            action: action.into(),
            fields,
            submit: submit.into(),
            csrf: ctx.csrf.clone(),
            error_heading: ctx.pick("出现了问题", "There is a problem").into(),
            general_errors: Vec::new(),
        }
    }

    /// Fills the fields' values from submitted (name, value) pairs.
    pub fn fill(mut self, submitted: &[(String, String)]) -> Form {
        for field in &mut self.fields {
            if matches!(field.kind, FieldKind::Password) {
                continue;
            }
            field.values = submitted
                .iter()
                .filter(|(k, _)| *k == field.name)
                .map(|(_, v)| v.clone())
                .collect();
        }
        self
    }

    /// Puts an API error at the field it names (or at the top).
    pub fn with_error(mut self, error: &ApiError) -> Form {
        let mut errors: Vec<(Option<String>, String)> = error
            .field_errors()
            .into_iter()
            .map(|e| (Some(e.field), e.detail))
            .collect();
        if errors.len() <= 1 {
            errors = vec![(error.field().map(str::to_string), error.public_detail())];
        }
        for (field, detail) in errors {
            let name = field.map(|f| f.split(['.', '[']).next().unwrap_or(&f).to_string());
            match name.and_then(|f| self.fields.iter_mut().find(|x| x.name == f)) {
                Some(field) => field.error = Some(detail),
                None => self.general_errors.push(detail),
            }
        }
        self
    }

    /// Whether any error is shown.
    pub fn has_errors(&self) -> bool {
        !self.general_errors.is_empty() || self.fields.iter().any(|f| f.error.is_some())
    }

    /// The form as HTML.
    pub fn html(&self) -> String {
        self.render().unwrap_or_default()
    }
}

/// A page that is a heading and a form (new-item pages, and their re-display with errors).
pub fn form_page(
    ctx: &PageContext,
    status: axum::http::StatusCode,
    title: &str,
    form: &Form,
) -> axum::response::Response {
    let body = format!("<h1>{}</h1>{}", askama_escape(title), form.html());
    ctx.render_status(status, title, &body)
}

/// One table cell: text, optionally a link.
#[derive(Clone, Debug)]
pub struct Cell {
    /// Text.
    pub text: String,
    /// Link target.
    pub href: Option<String>,
    /// The text's language when it is not the page's (e.g. `en` on a Chinese page).
    pub lang: Option<&'static str>,
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell {
            text,
            href: None,
            lang: None,
        }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::from(text.to_string())
    }
}

impl Cell {
    /// A link cell.
    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            href: Some(href.into()),
            lang: None,
        }
    }

    /// A cell whose text is in `lang`, not the page's language.
    pub fn in_lang(text: impl Into<String>, lang: &'static str) -> Cell {
        Cell {
            text: text.into(),
            href: None,
            lang: Some(lang),
        }
    }
}

/// A data table with a caption.
#[derive(Template, Clone, Debug)]
#[template(path = "table.html")]
pub struct Table {
    /// Caption (also the table's accessible name).
    pub caption: String,
    /// Column headings.
    pub headers: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<Cell>>,
    /// Shown when there are no rows.
    pub empty: String,
}

impl Table {
    /// The table as HTML.
    pub fn html(&self) -> String {
        self.render().unwrap_or_default()
    }
}

/// A table whose last column holds trusted markup (buttons from [`post_button`]); every
/// other cell is escaped.
pub fn action_table(caption: &str, headers: &[&str], rows: Vec<Vec<Cell>>, empty: &str) -> String {
    let mut html = format!(
        "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"{0}\"><table><caption>{0}</caption><thead><tr>",
        askama_escape(caption)
    );
    for h in headers {
        html.push_str(&format!("<th scope=\"col\">{}</th>", askama_escape(h)));
    }
    html.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        html.push_str(&format!(
            "<tr><td colspan=\"{}\">{}</td></tr>",
            headers.len(),
            askama_escape(empty)
        ));
    }
    for row in rows {
        html.push_str("<tr>");
        let last = row.len().saturating_sub(1);
        for (i, cell) in row.into_iter().enumerate() {
            if i == last {
                html.push_str(&format!("<td>{}</td>", cell.text));
            } else {
                html.push_str(&format!("<td>{}</td>", askama_escape(&cell.text)));
            }
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div>");
    html
}

/// A one-button form that posts to `action` with the CSRF token (for rows of an
/// [`action_table`]); `warning` styles it as a destructive act.
pub fn post_button(ctx: &PageContext, action: &str, label: &str, warning: bool) -> String {
    format!(
        "<form method=\"post\" action=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\" class=\"button{}\">{}</button></form>",
        askama_escape(action),
        askama_escape(&ctx.csrf),
        if warning { " warning" } else { "" },
        askama_escape(label)
    )
}

/// The error summary at the top of a page (GOV.UK pattern, as forms show it): each
/// (href, message) links to where the problem is put right.
pub fn error_summary(ctx: &PageContext, items: &[(String, String)]) -> String {
    let mut html = format!(
        "<div class=\"error-summary\" role=\"alert\" tabindex=\"-1\"><h2>{}</h2><ul>",
        askama_escape(ctx.pick("出现了问题", "There is a problem"))
    );
    for (href, message) in items {
        html.push_str(&format!(
            "<li><a href=\"{}\">{}</a></li>",
            askama_escape(href),
            askama_escape(message)
        ));
    }
    html.push_str("</ul></div>");
    html
}

/// A list of (label, value) pairs.
#[derive(Template, Clone, Debug)]
#[template(path = "summary.html")]
pub struct Summary {
    /// Pairs in order.
    pub rows: Vec<(String, String)>,
}

impl Summary {
    /// The list as HTML.
    pub fn html(&self) -> String {
        self.render().unwrap_or_default()
    }
}

/// A "next page" link for cursor paging, keeping other query parameters.
pub fn pager(ctx: &PageContext, base: &str, next_cursor: Option<&str>) -> String {
    match next_cursor {
        Some(cursor) => {
            let sep = if base.contains('?') { '&' } else { '?' };
            format!(
                "<nav class=\"pager\" aria-label=\"{}\"><a href=\"{}{}cursor={}\">{}</a></nav>",
                ctx.pick("分页", "Pages"),
                askama_escape(base),
                sep,
                crate::pages::urlencode(cursor),
                ctx.pick("下一页", "Next page")
            )
        }
        None => String::new(),
    }
}

/// Escapes text for HTML.
pub fn askama_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Parses `application/x-www-form-urlencoded` bytes into (name, value) pairs (repeated
/// names kept, for checkboxes).
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// The first value of `name` in submitted pairs.
pub fn form_value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// All values of `name` in submitted pairs.
pub fn form_values(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}
