// The Host and Origin rules for every way serve mode can be bound (the integration tests attack
// the default 127.0.0.1 binding over real HTTP; these cover IPv6, wildcard and named bindings).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostAllowed, originAllowed } from '../../../electron/serve/requestChecks';

test('Host: localhost or the bound address, with the right port, and never a foreign DNS name', () => {
  const cases: [string | undefined, string, boolean][] = [
    ['127.0.0.1:8080', '127.0.0.1', true],
    ['localhost:8080', '127.0.0.1', true],
    ['127.0.0.2:8080', '127.0.0.1', true], // still loopback, and an IP literal
    ['[::1]:8080', '127.0.0.1', true],
    ['[::1]:8080', '::1', true],
    ['localhost:8080', '::1', true],
    ['127.0.0.1:8081', '127.0.0.1', false],
    ['127.0.0.1', '127.0.0.1', false], // port 80 implied
    ['attacker.example:8080', '127.0.0.1', false],
    ['localhost.attacker.example:8080', '127.0.0.1', false],
    ['127.0.0.1.nip.io:8080', '127.0.0.1', false],
    ['192.168.1.20:8080', '0.0.0.0', true], // a wildcard bind answers to the machine's addresses
    ['attacker.example:8080', '0.0.0.0', false],
    ['[fe80::1]:8080', '::', true],
    ['workstation.lan:8080', 'workstation.lan', true], // bound by that name on purpose
    ['192.168.1.20:8080', '192.168.1.20', true],
    ['10.0.0.5:8080', '192.168.1.20', false],
    ['127.0.0.1:8080@attacker.example', '127.0.0.1', false],
    ['127.0.0.1:8080/x', '127.0.0.1', false],
    ['', '127.0.0.1', false],
    [undefined, '127.0.0.1', false],
  ];
  for (const [host, bound, expected] of cases)
    assert.equal(hostAllowed(host, bound, 8080), expected, `Host ${host} on ${bound}`);
});

test("Origin: the page's own origin only; absent means not a browser page", () => {
  assert.equal(originAllowed('http://127.0.0.1:8080', '127.0.0.1:8080'), true);
  assert.equal(originAllowed('http://localhost:8080', 'localhost:8080'), true);
  assert.equal(originAllowed(undefined, '127.0.0.1:8080'), true);
  assert.equal(originAllowed('http://localhost:9', '127.0.0.1:8080'), false);
  assert.equal(
    originAllowed('http://localhost:8080', '127.0.0.1:8080'),
    false,
    'another origin, same machine',
  );
  assert.equal(originAllowed('http://127.0.0.1:9', '127.0.0.1:8080'), false);
  assert.equal(originAllowed('https://127.0.0.1:8080', '127.0.0.1:8080'), false);
  assert.equal(originAllowed('null', '127.0.0.1:8080'), false);
  assert.equal(originAllowed('http://127.0.0.1:8080/path', '127.0.0.1:8080'), false);
  assert.equal(originAllowed('http://127.0.0.1:8080', undefined), false);
});
