//! Links the system's libxml2 (found by pkg-config), or stops with what to install.

fn main() {
    if let Err(error) = pkg_config::Config::new()
        .atleast_version("2.9")
        .probe("libxml-2.0")
    {
        eprintln!(
            "libxml2 (the XML Schema validator Civitas checks CAP alerts with) was not found: {error}. \
             Install it with `apt-get install libxml2-dev` (Debian/Ubuntu), `dnf install libxml2-devel` (Fedora) \
             or `brew install libxml2` (macOS), then build again."
        );
        std::process::exit(1);
    }
}
