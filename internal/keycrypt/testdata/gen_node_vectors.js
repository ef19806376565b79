// Generates node_vectors.json: AES-256-GCM test vectors produced by Node's
// crypto module, so the Go package is checked against the same library that
// wrote the existing user_api_keys rows rather than against itself.
//
// Keys and IVs are fixed so that re-running the script yields an identical
// file. Run from anywhere:  node internal/keycrypt/testdata/gen_node_vectors.js
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

// Obviously fake keys; never use these for anything real.
const keys = {
  a: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  b: 'f0e0d0c0b0a090807060504030201000ffeeddccbbaa99887766554433221100',
};

// 16-byte IVs match the legacy TypeScript writer; 12-byte IVs match what the
// Go writer produces today.
const ivs = {
  iv16: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf',
  iv12: 'b0b1b2b3b4b5b6b7b8b9babb',
};

const plaintexts = {
  empty: '',
  openrouter: 'sk-or-v1-' + 'deadbeef'.repeat(8),
  unicode: '🔑 clé secrète — 秘密鍵 ✓',
  multiblock: 'fake-key-' + 'x'.repeat(70),
};

const vectors = [];
for (const [keyName, key] of Object.entries(keys)) {
  for (const [ivName, iv] of Object.entries(ivs)) {
    for (const [ptName, plaintext] of Object.entries(plaintexts)) {
      const cipher = crypto.createCipheriv('aes-256-gcm', Buffer.from(key, 'hex'), Buffer.from(iv, 'hex'));
      const content = cipher.update(plaintext, 'utf8', 'hex') + cipher.final('hex');
      const tag = cipher.getAuthTag().toString('hex');
      vectors.push({
        name: `key_${keyName}/${ivName}/${ptName}`,
        key,
        iv,
        content,
        tag,
        plaintext,
      });
    }
  }
}

const out = path.join(__dirname, 'node_vectors.json');
fs.writeFileSync(out, JSON.stringify(vectors, null, 2) + '\n');
console.log(`wrote ${vectors.length} vectors to ${out} (node ${process.version})`);
