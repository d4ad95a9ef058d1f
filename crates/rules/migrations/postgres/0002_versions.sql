-- Every version of a rules package the node has served or been given, with its files
-- (the law as written: public text, not personal data), and each publication of one.
-- The version served is a package's latest publication; a decision names the version
-- it was made with by its digest, so it can be replayed with the rules as they were.
CREATE TABLE rules_package_versions (
    package TEXT NOT NULL,
    digest TEXT NOT NULL,
    files TEXT NOT NULL,
    source TEXT NOT NULL,
    note TEXT NOT NULL,
    tests_passed BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    PRIMARY KEY (package, digest)
);

CREATE TABLE rules_publications (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    package TEXT NOT NULL,
    digest TEXT NOT NULL,
    published_by TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    FOREIGN KEY (package, digest) REFERENCES rules_package_versions(package, digest)
);
CREATE INDEX rules_publications_package ON rules_publications(package, seq);
