#!/usr/bin/env node
// Interoperability check: the eddsa-jcs-2022 credentials a running Civitas server issues
// are verified by an independent implementation, Digital Bazaar's Data Integrity stack
// (jsonld-signatures + @digitalbazaar/data-integrity + @digitalbazaar/eddsa-jcs-2022-cryptosuite),
// with the issuer's key resolved through did:web. Each credential must verify; a copy with
// one claim changed must be rejected. The W3C vc-di-eddsa test vector (did:key) is verified
// first, so a failure points at Civitas and not at this side.
//
//   node .ci/interop/verify-vc.mjs <base-url>                   sign in as the demo holders
//   node .ci/interop/verify-vc.mjs <base-url> <credential.json> verify that one credential
//
// Exits 0 only when everything verified and every tampered copy was rejected. Offline: the
// JSON-LD contexts come from npm packages; only the server under test is fetched.
import {readFileSync, existsSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

import jsigs from 'jsonld-signatures';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as didKey from '@digitalbazaar/did-method-key';
import * as credentialsContext from '@digitalbazaar/credentials-context';
import dataIntegrityContext from '@digitalbazaar/data-integrity-context';
import multikeyContext from '@digitalbazaar/multikey-context';
import didContext from 'did-context';

const here = dirname(fileURLToPath(import.meta.url));
const HOLDERS = ['demo-citizen', 'demo-elder'];
const PASSWORD = 'civitas-demo';

function version(name) {
  // The installed copy (a direct dependency, so at the top of node_modules).
  const file = join(here, 'node_modules', ...name.split('/'), 'package.json');
  return JSON.parse(readFileSync(file, 'utf8')).version;
}
const LIBRARY = '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
const LIBRARY_LABEL = `${LIBRARY}@${version(LIBRARY)}` +
  ` (jsonld-signatures@${version('jsonld-signatures')},` +
  ` @digitalbazaar/data-integrity@${version('@digitalbazaar/data-integrity')})`;

// ---- document loader: bundled contexts, did:key, did:web (over HTTP) ----

const contexts = new Map();
for(const map of [
  credentialsContext.contexts, dataIntegrityContext.contexts,
  multikeyContext.contexts, didContext.contexts
]) {
  for(const [url, doc] of map) {
    contexts.set(url, doc);
  }
}

const didKeyDriver = didKey.driver();
didKeyDriver.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});

/** The did.json URL of a did:web DID (W3C did:web method, section 3.2), over http. */
export function didWebUrl(did) {
  const parts = did.split(':');
  if(parts.length < 3 || parts[0] !== 'did' || parts[1] !== 'web') {
    throw new Error(`not a did:web DID: ${did}`);
  }
  const host = decodeURIComponent(parts[2]);
  const path = parts.slice(3).map(decodeURIComponent);
  return `http://${host}/${path.length ? path.join('/') : '.well-known'}/did.json`;
}

const didWebCache = new Map();
async function resolveDidWeb(did) {
  if(!didWebCache.has(did)) {
    didWebCache.set(did, (async () => {
      const url = didWebUrl(did);
      const response = await fetch(url);
      if(!response.ok) {
        throw new Error(`GET ${url}: HTTP ${response.status}`);
      }
      const doc = await response.json();
      if(doc.id !== did) {
        throw new Error(`${url} names ${doc.id}, not ${did}`);
      }
      return doc;
    })());
  }
  return didWebCache.get(did);
}

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  if(url.startsWith('did:key:')) {
    return {contextUrl: null, documentUrl: url, document: await didKeyDriver.get({url})};
  }
  if(url.startsWith('did:web:')) {
    const [did, fragment] = url.split('#');
    const doc = await resolveDidWeb(did);
    if(fragment === undefined) {
      return {contextUrl: null, documentUrl: url, document: doc};
    }
    const method = (doc.verificationMethod || []).find(m =>
      m.id === url || (m.id.startsWith('#') && did + m.id === url));
    if(!method) {
      throw new Error(`${did} has no verification method ${url}`);
    }
    return {
      contextUrl: null,
      documentUrl: url,
      document: {'@context': multikeyContext.CONTEXT_URL, ...method, id: url}
    };
  }
  throw new Error(`document loader: refusing to fetch ${url} (offline)`);
}

// ---- verification ----

async function verify(credential) {
  const suite = new DataIntegrityProof({cryptosuite: createVerifyCryptosuite()});
  const result = await jsigs.verify(structuredClone(credential), {
    suite,
    purpose: new jsigs.purposes.AssertionProofPurpose(),
    documentLoader
  });
  // The per-proof errors say why; the top-level one only when no proof was tried.
  let errors = (result.results || []).flatMap(r => [r.error].flat()).filter(Boolean);
  if(errors.length === 0) {
    errors = [result.error].flat().filter(Boolean);
  }
  return {verified: result.verified === true, reason: errors.map(e => e.message).join('; ')};
}

/** A copy with one claim of credentialSubject changed (the first one that is not `id`). */
function tamper(credential) {
  const copy = structuredClone(credential);
  const subject = Array.isArray(copy.credentialSubject) ?
    copy.credentialSubject[0] : copy.credentialSubject;
  const names = Object.keys(subject || {});
  const name = names.find(n => n !== 'id') ?? names[0];
  if(name === undefined) {
    throw new Error('credentialSubject has no claim to change');
  }
  const value = subject[name];
  if(typeof value === 'string') {
    subject[name] = value + '※';
  } else if(typeof value === 'number') {
    subject[name] = value + 1;
  } else if(typeof value === 'boolean') {
    subject[name] = !value;
  } else {
    subject[name] = 'tampered';
  }
  return {copy, claim: name};
}

let failures = 0;
function fail(line) {
  failures++;
  console.log(`FAIL ${line}`);
}

/** Verifies one credential and rejects its tampered copy; true when both held. */
async function check(label, credential) {
  const method = credential?.proof?.verificationMethod ?? '(no proof)';
  const good = await verify(credential);
  if(!good.verified) {
    fail(`${label}: not verified (${method}): ${good.reason}`);
    return false;
  }
  const {copy, claim} = tamper(credential);
  const bad = await verify(copy);
  if(bad.verified) {
    fail(`${label}: verified, but the copy with credentialSubject.${claim} changed was ` +
      'accepted too');
    return false;
  }
  if(!/invalid signature/i.test(bad.reason)) {
    fail(`${label}: the tampered copy was rejected for another reason: ${bad.reason}`);
    return false;
  }
  console.log(`ok   ${label}: verified (${method}); ` +
    `copy with credentialSubject.${claim} changed rejected (${bad.reason})`);
  return true;
}

async function postJson(url, body, token) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {'content-type': 'application/json', ...(token ? {authorization: `Bearer ${token}`} : {})},
    body: JSON.stringify(body)
  });
  if(!response.ok) {
    throw new Error(`POST ${url}: HTTP ${response.status} ${await response.text()}`);
  }
  return response.json();
}

async function getJson(url, token) {
  const response = await fetch(url, {headers: {authorization: `Bearer ${token}`}});
  if(!response.ok) {
    throw new Error(`GET ${url}: HTTP ${response.status} ${await response.text()}`);
  }
  return response.json();
}

function vectorPath() {
  const candidates = [
    process.env.CIVITAS_VC_DI_EDDSA_VECTORS,
    resolve(here, '../../../shared/testdata/vc-di-eddsa')
  ].filter(Boolean);
  const dir = candidates.find(d => existsSync(join(d, 'signedJCS.json')));
  if(!dir) {
    throw new Error(`no signedJCS.json in ${candidates.join(', ')} ` +
      '(set CIVITAS_VC_DI_EDDSA_VECTORS)');
  }
  return join(dir, 'signedJCS.json');
}

async function main() {
  const [base, file] = process.argv.slice(2);
  if(!base) {
    console.error('usage: node verify-vc.mjs <base-url> [credential.json]');
    process.exit(2);
  }
  const baseUrl = base.replace(/\/+$/, '');

  // The JS side itself: the W3C specification's signed eddsa-jcs-2022 vector.
  const vector = vectorPath();
  const vectorOk = await check(`W3C vector ${vector}`, JSON.parse(readFileSync(vector, 'utf8')));
  if(!vectorOk) {
    console.log('interop: FAILED: the W3C eddsa-jcs-2022 vector did not check out with ' +
      LIBRARY_LABEL);
    process.exit(1);
  }

  let credentials = [];
  if(file) {
    const parsed = JSON.parse(readFileSync(file, 'utf8'));
    credentials.push({label: file, document: parsed.document ?? parsed});
  } else {
    for(const username of HOLDERS) {
      const {token} = await postJson(`${baseUrl}/api/v1/auth/login`,
        {username, password: PASSWORD});
      if(!token) {
        throw new Error(`login as ${username}: no token in the answer`);
      }
      const list = await getJson(`${baseUrl}/api/v1/me/credentials`, token);
      if(!Array.isArray(list) || list.length === 0) {
        fail(`${username}: no credentials at ${baseUrl}/api/v1/me/credentials`);
        continue;
      }
      for(const item of list) {
        credentials.push({
          label: `${username} ${item.type_code ?? ''} ${item.document?.name ?? ''} ` +
            `${item.id ?? item.document?.id ?? ''}`.replace(/\s+/g, ' ').trim(),
          document: item.document
        });
      }
    }
  }

  let verified = 0;
  for(const {label, document} of credentials) {
    if(await check(label, document)) {
      verified++;
    }
  }
  const total = credentials.length;
  if(failures === 0 && total > 0 && verified === total) {
    console.log(`interop: ${verified} Civitas credential${verified === 1 ? '' : 's'} ` +
      `verified by ${LIBRARY_LABEL}, ${verified} tampered ` +
      `cop${verified === 1 ? 'y' : 'ies'} rejected; W3C vector verified`);
    process.exit(0);
  }
  console.log(`interop: FAILED: ${verified} of ${total} Civitas credentials checked out ` +
    `with ${LIBRARY_LABEL}`);
  process.exit(1);
}

main().catch(error => {
  const cause = error?.cause ? ` (${error.cause.code || error.cause.message || error.cause})` : '';
  console.log(`interop: FAILED: ${error?.message ?? error}${cause}`);
  process.exit(1);
});
