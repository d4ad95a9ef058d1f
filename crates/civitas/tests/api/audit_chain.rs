//! The audit log is a set of hash chains: `civitas audit verify` (the real binary) finds
//! them intact, and names the partition and record of any tampering done in the store.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// An app with audited activity; returns it and the partition with the most records
/// (at least four) and its highest seq.
async fn busy_app() -> (TestApp, String, i64, String) {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let org = app.organisation(&admin, 1, "示例市民政局").await;
    for seq in 1..=3 {
        let (id, _) = app.person(&admin, seq, &format!("居民{seq}")).await;
        let r = app
            .get(
                &format!("/api/v1/persons/{id}?purpose=audit%20test%20{seq}"),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    // Some activity in an organisation's partition too.
    let clerk = app
        .account("clerk", kernel::auth::Role::OrgAdmin, Some(&org), None)
        .await;
    let r = app
        .post("/api/v1/accounts", Some(&clerk), &json!({
            "username": "clerk2", "password": "a long enough password", "role": "clerk", "organisation_id": org
        }))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let partitions = app.audit_partitions().await;
    assert!(partitions.len() >= 3, "{partitions:?}");
    assert!(partitions.iter().any(|(p, _, _)| p == "system"));
    assert!(
        partitions
            .iter()
            .any(|(p, _, _)| p == &format!("org:{org}"))
    );
    let (partition, count, max_seq) = partitions[0].clone();
    assert!(count >= 4, "{partitions:?}");
    assert_eq!(count, max_seq, "seqs are dense from 1");
    (app, partition, max_seq, admin)
}

/// Runs `civitas audit verify`: (exit code, stdout).
async fn verify(app: &TestApp) -> (i32, String) {
    let (code, stdout, stderr) = app.cli(&["audit", "verify"]).await;
    assert!(
        code == 0 || code == 1,
        "exit {code}\nstdout: {stdout}\nstderr: {stderr}"
    );
    (code, stdout)
}

/// Drops the append-only triggers, as an attacker with store access would.
async fn drop_triggers(app: &TestApp) {
    if app.is_postgres() {
        app.exec("DROP TRIGGER audit_records_no_update ON audit_records")
            .await;
    } else {
        app.exec("DROP TRIGGER audit_records_no_update; DROP TRIGGER audit_records_no_delete;")
            .await;
    }
}

/// Asserts the CLI and the API both report a break at `partition` / `seq`.
async fn assert_broken(app: &TestApp, admin: &str, partition: &str, seq: i64) {
    let (code, stdout) = verify(app).await;
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("BROKEN"), "{stdout}");
    assert!(
        stdout.contains(&format!("partition {partition} at record {seq}")),
        "{stdout}"
    );
    let report: Value = app
        .post("/api/v1/audit/verify", Some(admin), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["first_break"]["partition"], partition, "{report}");
    assert_eq!(report["first_break"]["seq"], seq, "{report}");
}

fn sql_where(partition: &str, seq: i64) -> String {
    format!("partition = '{partition}' AND seq = {seq}")
}

#[tokio::test]
async fn intact_chain_verifies_and_records_are_append_only() {
    let (app, partition, max_seq, admin) = busy_app().await;
    let (code, stdout) = verify(&app).await;
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("intact"), "{stdout}");
    let report: Value = app
        .post("/api/v1/audit/verify", Some(&admin), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(report["first_break"].is_null(), "{report}");
    assert!(report["records"].as_u64().unwrap() >= max_seq as u64);

    // Without dropping the triggers the store refuses to change or remove records.
    let update = app
        .try_exec(&format!(
            "UPDATE audit_records SET purpose = 'x' WHERE {}",
            sql_where(&partition, 2)
        ))
        .await;
    let error = update.expect_err("an UPDATE of an audit record must fail");
    assert!(error.to_string().contains("append-only"), "{error}");
    let delete = app
        .try_exec(&format!(
            "DELETE FROM audit_records WHERE {}",
            sql_where(&partition, 2)
        ))
        .await;
    let error = delete.expect_err("a DELETE of an audit record must fail");
    assert!(error.to_string().contains("append-only"), "{error}");
    let (code, stdout) = verify(&app).await;
    assert_eq!(code, 0, "{stdout}");

    // More activity after a verification keeps the chain intact.
    app.person(&admin, 9, "新居民").await;
    let (code, stdout) = verify(&app).await;
    assert_eq!(code, 0, "{stdout}");
}

#[tokio::test]
async fn altered_purpose_is_found() {
    let (app, partition, _, admin) = busy_app().await;
    drop_triggers(&app).await;
    app.exec(&format!(
        "UPDATE audit_records SET purpose = 'nothing to see' WHERE {}",
        sql_where(&partition, 2)
    ))
    .await;
    assert_broken(&app, &admin, &partition, 2).await;
}

#[tokio::test]
async fn deleted_middle_record_is_found() {
    let (app, partition, max_seq, admin) = busy_app().await;
    let middle = max_seq / 2;
    assert!(middle > 1 && middle < max_seq);
    drop_triggers(&app).await;
    app.exec(&format!(
        "DELETE FROM audit_records WHERE {}",
        sql_where(&partition, middle)
    ))
    .await;
    assert_broken(&app, &admin, &partition, middle).await;
}

#[tokio::test]
async fn reordered_records_are_found() {
    let (app, partition, _, admin) = busy_app().await;
    drop_triggers(&app).await;
    // Swap records 2 and 3 (through a free seq, the key being (partition, seq)).
    app.exec(&format!(
        "UPDATE audit_records SET seq = -3 WHERE {}",
        sql_where(&partition, 3)
    ))
    .await;
    app.exec(&format!(
        "UPDATE audit_records SET seq = 3 WHERE {}",
        sql_where(&partition, 2)
    ))
    .await;
    app.exec(&format!(
        "UPDATE audit_records SET seq = 2 WHERE {}",
        sql_where(&partition, -3)
    ))
    .await;
    assert_broken(&app, &admin, &partition, 2).await;
}

#[tokio::test]
async fn deleted_last_record_is_found() {
    let (app, partition, max_seq, admin) = busy_app().await;
    drop_triggers(&app).await;
    app.exec(&format!(
        "DELETE FROM audit_records WHERE {}",
        sql_where(&partition, max_seq)
    ))
    .await;
    assert_broken(&app, &admin, &partition, max_seq).await;
}

#[tokio::test]
async fn concurrent_audited_reads_keep_every_chain_intact() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let (person, _) = app.person(&admin, 7, "王五").await;
    // Many reads at once: the group-commit writer chains them in batches.
    let reads = (0..120).map(|i| {
        let path = format!("/api/v1/persons/{person}?purpose=concurrent%20check%20{i}");
        let app = &app;
        let admin = admin.clone();
        async move { app.get(&path, Some(&admin)).await.status() }
    });
    for status in futures::future::join_all(reads).await {
        assert_eq!(status, StatusCode::OK);
    }
    let (code, out) = verify(&app).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact"), "{out}");
    // Every read is in the chain exactly once, with its own purpose.
    let mut purposes = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/audit/records?limit=200&cursor={c}"),
            None => "/api/v1/audit/records?limit=200".to_string(),
        };
        let page: Value = app.get(&path, Some(&admin)).await.json().await.unwrap();
        for r in page["items"].as_array().unwrap() {
            if r["action"] == "person.read" {
                assert!(purposes.insert(r["purpose"].as_str().unwrap().to_string()));
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(purposes.len(), 120);
}

/// Counts audit records with `action` (admin view, all pages).
async fn count_action(app: &TestApp, admin: &str, action: &str) -> usize {
    let mut n = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/audit/records?limit=200&cursor={c}"),
            None => "/api/v1/audit/records?limit=200".to_string(),
        };
        let page: Value = app.get(&path, Some(admin)).await.json().await.unwrap();
        n += page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["action"] == action)
            .count();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return n,
        }
    }
}

#[tokio::test]
async fn a_write_and_its_audit_record_commit_together() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    app.person(&admin, 21, "赵六").await;
    // The record of the registration is chained by the time the response arrives.
    assert_eq!(count_action(&app, &admin, "person.create").await, 1);
    // A registration that fails (duplicate) rolls back with its record.
    let rid = crate::helpers::rid(21);
    let r = app
        .post(
            "/api/v1/persons",
            Some(&admin),
            &json!({"resident_id": rid, "name": "赵六", "region": "990102001001"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(count_action(&app, &admin, "person.create").await, 1);
}

#[tokio::test]
async fn records_queued_by_a_crashed_process_are_chained_by_the_sweeper() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // As if a process committed a write with its queued record and died before chaining it.
    app.exec(
        "INSERT INTO audit_pending (id, partition, at, action, resource, purpose, basis_kind, outcome)
         VALUES ('01900000-0000-7000-8000-000000000001', 'system', 1, 'test.orphan', 'x', '', 'none', 'success')",
    )
    .await;
    let mut chained = false;
    for _ in 0..100 {
        if count_action(&app, &admin, "test.orphan").await == 1 {
            chained = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(chained, "the queued record was never chained");
    let (code, out) = verify(&app).await;
    assert_eq!(code, 0, "{out}");
}
