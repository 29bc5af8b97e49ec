// The dev chain's JSON-RPC as other clients use it (issue 14, items 11, 12,
// 13 and 16): simulations of the transaction type a request describes (an
// EIP-2930 access list is charged), state overrides refused, the RPC gas
// cap, and the dev accounts served as anvil and hardhat serve them
// (eth_accounts, eth_sendTransaction, eth_signTypedData_v4, personal_sign,
// with raw JSON-RPC and with ethers' JsonRpcSigner), and eth_createAccessList.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { envelope, salt } from './helpers.js';
import { TYPES } from './eip712.js';
import {
  CAST, MS, assetIdOf, cast, compileContracts, ethers, rpc, startChain, startFails, tempDir,
} from './devchain-helpers.js';
import { devAccounts } from '../src/devchain/accounts.js';

const CHAIN_ID = 1337n;
const ACCOUNTS = devAccounts(3);
const [USER, OTHER] = ACCOUNTS;
const STRANGER = ethers.getAddress('0x' + '5e'.repeat(20));
const PROVIDER_OPTS = { pollingInterval: 50, cacheTimeout: -1 };
/** Init code that returns gasleft() as a 32-byte word: GAS PUSH0 MSTORE PUSH1 32 PUSH0 RETURN. */
const GASLEFT = '0x5a5f5260205ff3';
const KEY1 = '0x' + '11'.repeat(32);
const KEY2 = '0x' + '22'.repeat(32);

/** One JSON-RPC call: {result} or {error}. */
async function call(url, method, params) {
  return rpc(url, { jsonrpc: '2.0', id: 1, method, params });
}

describe('dev chain JSON-RPC (issue 14)', () => {
  const dataDir = tempDir('rpc');
  const { IMemSync, AgentRegistry } = compileContracts();
  const ms = new ethers.Interface(IMemSync.abi);
  let chain;
  let provider;
  let user;

  before(async () => {
    chain = await startChain(dataDir, ['--chain-id', String(CHAIN_ID), '--accounts', String(ACCOUNTS.length)]);
    provider = new ethers.JsonRpcProvider(chain.url, undefined, PROVIDER_OPTS);
    user = new ethers.Wallet(USER.privateKey, provider);
  });

  after(async () => {
    provider?.destroy();
    if (chain) await chain.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const estimate = async (req) => {
    const r = await call(chain.url, 'eth_estimateGas', [req, 'latest']);
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    return BigInt(r.result);
  };

  test('item 11: an access list is simulated as EIP-2930 (2,400 per address, 1,900 per key) and the estimate suffices', async () => {
    const data = ms.encodeFunctionData('createMemory', [salt(11), ethers.ZeroHash, envelope(1)]);
    const gasPrice = (await call(chain.url, 'eth_gasPrice', [])).result;
    const base = { from: USER.address, to: MS, data, gasPrice };
    const plain = await estimate(base);
    const list1 = [{ address: MS, storageKeys: [] }];
    const list2 = [{ address: STRANGER, storageKeys: [KEY1, KEY2] }];
    // viem sends gasPrice + accessList (with or without type 0x1) for an EIP-2930 transaction.
    assert.equal(await estimate({ ...base, accessList: list1 }), plain + 2400n);
    assert.equal(await estimate({ ...base, accessList: list1, type: '0x1' }), plain + 2400n);
    assert.equal(await estimate({ ...base, accessList: list2 }), plain + 2400n + 2n * 1900n);
    assert.equal(await estimate({ ...base, accessList: [...list1, ...list2] }), plain + 2n * 2400n + 2n * 1900n);
    // EIP-1559 fields with an access list: type 0x2, charged the same.
    const fees = { maxFeePerGas: gasPrice, maxPriorityFeePerGas: '0x1' };
    const plain1559 = await estimate({ from: USER.address, to: MS, data, ...fees });
    assert.equal(await estimate({ from: USER.address, to: MS, data, ...fees, accessList: list2 }), plain1559 + 2400n + 3800n);
    // The transaction as viem sends it, with exactly that estimate: mined and successful.
    const gasLimit = await estimate({ ...base, accessList: list2 });
    const tx = await user.sendTransaction({ type: 1, to: MS, data, gasLimit, gasPrice, accessList: list2 });
    const receipt = await tx.wait();
    assert.equal(receipt.type, 1);
    assert.equal(receipt.status, 1);
    assert.equal(receipt.gasUsed, gasLimit);
    const head = ms.decodeFunctionResult('getHead', (await call(chain.url, 'eth_call', [{
      to: MS, data: ms.encodeFunctionData('getHead', [assetIdOf(USER.address, salt(11))]),
    }, 'latest'])).result);
    assert.equal(head.owner, USER.address);
    // eth_call answers the same for every type.
    const callData = ms.encodeFunctionData('createMemory', [salt(12), ethers.ZeroHash, envelope(1)]);
    for (const extra of [{}, { gasPrice }, { gasPrice, accessList: list1 }, { ...fees, accessList: list2 }, { type: '0x1' }]) {
      const r = await call(chain.url, 'eth_call', [{ from: USER.address, to: MS, data: callData, ...extra }, 'latest']);
      assert.equal(r.result, assetIdOf(USER.address, salt(12)), JSON.stringify(extra));
    }
  });

  test('item 11: contradictory type fields are refused with -32602', async () => {
    const req = { from: USER.address, to: STRANGER };
    for (const [bad, re] of [
      [{ gasPrice: '0x1', maxFeePerGas: '0x1' }, /both gasPrice and/],
      [{ type: '0x0', accessList: [{ address: MS, storageKeys: [] }] }, /legacy.*no access list/],
      [{ type: '0x1', maxFeePerGas: '0x1' }, /no maxFeePerGas/],
      [{ type: '0x2', gasPrice: '0x1' }, /no gasPrice/],
      [{ type: '0x3' }, /type 0x3 is not supported/],
      [{ accessList: [{ address: '0x12', storageKeys: [] }] }, /accessList\[0\]\.address/],
      [{ accessList: [{ address: MS, storageKeys: ['0x01'] }] }, /storageKeys\[0\]: expected 32 bytes/],
      [{ chainId: '0x1' }, /chainId does not match/],
    ]) {
      for (const method of ['eth_call', 'eth_estimateGas']) {
        const r = await call(chain.url, method, [{ ...req, ...bad }, 'latest']);
        assert.equal(r.error?.code, -32602, `${method} ${JSON.stringify(bad)}: ${JSON.stringify(r)}`);
        assert.match(r.error.message, re);
      }
    }
  });

  test('item 12: a state override is refused with -32602 by eth_call and eth_estimateGas', async () => {
    const req = { to: MS, data: ms.encodeFunctionData('getHead', [assetIdOf(USER.address, salt(11))]) };
    const override = { [STRANGER]: { balance: '0x1' } };
    for (const method of ['eth_call', 'eth_estimateGas']) {
      const r = await call(chain.url, method, [req, 'latest', override]);
      assert.equal(r.error?.code, -32602, `${method}: ${JSON.stringify(r)}`);
      assert.match(r.error.message, /state overrides \(parameter 3\) are not supported/);
      const blockOverride = await call(chain.url, method, [req, 'latest', null, { number: '0x99' }]);
      assert.equal(blockOverride.error?.code, -32602);
      assert.match(blockOverride.error.message, /block overrides/);
      // An empty override overrides nothing and is accepted.
      const empty = await call(chain.url, method, [req, 'latest', {}]);
      assert.equal(empty.error, undefined, JSON.stringify(empty));
    }
    // ethers' default path (no override) is unaffected.
    const got = await provider.call(req);
    assert.equal(ms.decodeFunctionResult('getHead', got).owner, USER.address);
  });

  test('item 13: eth_call and eth_estimateGas are capped at the block gas limit (clamped, as geth)', async () => {
    const huge = ethers.toQuantity(1n << 40n);
    const left = async (gas) => BigInt((await call(chain.url, 'eth_call', [{ data: GASLEFT, ...(gas ? { gas } : {}) }, 'latest'])).result);
    const capped = await left(huge);
    assert.ok(capped <= 30_000_000n && capped > 29_000_000n, `gasleft ${capped} with gas 2^40`);
    assert.equal(await left(undefined), capped); // no gas: the cap
    const asked = await left(ethers.toQuantity(1_000_000n)); // below the cap: the request's own
    assert.ok(asked < 1_000_000n && asked > 900_000n, `gasleft ${asked} with gas 1,000,000`);
    // An estimate that needs more than the cap says so, naming the cap.
    const r = await call(chain.url, 'eth_estimateGas', [{ data: '0xfe', gas: huge }, 'latest']);
    assert.equal(r.error?.code, -32000);
    assert.match(r.error.message, /gas required exceeds allowance \(30000000\)/);
  });

  test('items 11 and 16: eth_createAccessList finds the touched slots; a type-1 transaction with it succeeds', async () => {
    const registry = await new ethers.ContractFactory(AgentRegistry.abi, AgentRegistry.bytecode, user).deploy();
    await registry.waitForDeployment();
    const asset = assetIdOf(USER.address, salt(11));
    const data = registry.interface.encodeFunctionData('register', [asset, OTHER.address]);
    // No write grant yet: the estimate fails and createAccessList reports the revert.
    const refused = await call(chain.url, 'eth_createAccessList', [{ from: USER.address, to: registry.target, data }, 'latest']);
    assert.equal(refused.result.error, 'execution reverted');
    await (await new ethers.Contract(MS, IMemSync.abi, user).grantAccess(asset, OTHER.address, 3, 0, '0x')).wait();

    const r = await call(chain.url, 'eth_createAccessList', [{ from: USER.address, to: registry.target, data }, 'latest']);
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.equal(r.result.error, undefined);
    const list = r.result.accessList;
    // The registry's storage is touched (its own address stays, with its slots);
    // the sender and the precompile (warm anyway) are left out.
    assert.equal(list.length, 1, JSON.stringify(list));
    assert.equal(list[0].address, registry.target.toLowerCase());
    assert.ok(list[0].storageKeys.length >= 1);
    assert.ok(list[0].storageKeys.every((k) => /^0x[0-9a-f]{64}$/.test(k)));
    const gasUsed = BigInt(r.result.gasUsed);
    const gasPrice = (await call(chain.url, 'eth_gasPrice', [])).result;
    assert.equal(await estimate({ from: USER.address, to: registry.target, data, gasPrice, accessList: list }), gasUsed);
    const receipt = await (await user.sendTransaction({
      type: 1, to: registry.target, data, gasPrice, gasLimit: gasUsed, accessList: list,
    })).wait();
    assert.equal(receipt.status, 1);
    assert.equal(receipt.gasUsed, gasUsed);
    // A plain transfer touches nothing beyond the sender and recipient.
    const transfer = await call(chain.url, 'eth_createAccessList', [{ from: USER.address, to: STRANGER, value: '0x1' }]);
    assert.deepEqual(transfer.result, { accessList: [], gasUsed: '0x5208' });
  });

  test('item 16: eth_accounts, eth_sendTransaction, eth_signTypedData_v4 and personal_sign with raw JSON-RPC', async () => {
    const accounts = await call(chain.url, 'eth_accounts', []);
    assert.deepEqual(accounts.result, ACCOUNTS.map((a) => a.address.toLowerCase()));

    // A transfer with nothing but from, to and value: nonce, gas and fees are filled in.
    const before = await provider.getBalance(STRANGER);
    const sent = await call(chain.url, 'eth_sendTransaction', [{ from: OTHER.address, to: STRANGER, value: '0x5' }]);
    assert.match(sent.result, /^0x[0-9a-f]{64}$/, JSON.stringify(sent));
    const receipt = (await call(chain.url, 'eth_getTransactionReceipt', [sent.result])).result;
    assert.equal(receipt.status, '0x1');
    assert.equal(receipt.from, OTHER.address.toLowerCase());
    assert.equal(receipt.type, '0x2');
    assert.equal(await provider.getBalance(STRANGER), before + 5n);

    // A precompile call, legacy (gasPrice given), gas estimated.
    const data = ms.encodeFunctionData('createMemory', [salt(16), ethers.ZeroHash, envelope(1)]);
    const legacy = await call(chain.url, 'eth_sendTransaction', [{ from: OTHER.address, to: MS, data, gasPrice: '0x77359400' }]);
    const lr = (await call(chain.url, 'eth_getTransactionReceipt', [legacy.result])).result;
    assert.equal(lr.status, '0x1');
    assert.equal(lr.type, '0x0');
    const tx = (await call(chain.url, 'eth_getTransactionByHash', [legacy.result])).result;
    assert.equal(BigInt(tx.chainId), CHAIN_ID); // EIP-155

    // A reverting call: the estimate's revert, with its data; no block.
    const height = await provider.getBlockNumber();
    const again = await call(chain.url, 'eth_sendTransaction', [{ from: OTHER.address, to: MS, data }]);
    assert.equal(again.error?.code, 3);
    assert.equal(ms.parseError(again.error.data).name, 'AssetExists');
    assert.equal(await provider.getBlockNumber(), height);

    // Only the dev accounts sign.
    const unknown = await call(chain.url, 'eth_sendTransaction', [{ from: STRANGER, to: STRANGER }]);
    assert.equal(unknown.error?.code, -32000);
    assert.match(unknown.error.message, /unknown account/);
    assert.equal((await call(chain.url, 'eth_sendTransaction', [{ to: STRANGER }])).error?.code, -32602);

    // eth_signTypedData_v4: the payload as a JSON string (MetaMask, viem) or an object (hardhat).
    const domain = { name: 'MemSync', version: '1', chainId: Number(CHAIN_ID), verifyingContract: MS };
    const message = {
      assetId: assetIdOf(OTHER.address, salt(16)), expectedVersion: '1', keyEpoch: '1', ciphertextHash: ethers.keccak256('0x01'),
      signer: OTHER.address, nonce: '0', deadline: '99999999999',
    };
    const payload = ethers.TypedDataEncoder.getPayload(domain, { AppendVersion: TYPES.AppendVersion }, message);
    const expected = await new ethers.Wallet(OTHER.privateKey).signTypedData(domain, { AppendVersion: TYPES.AppendVersion }, message);
    const s1 = await call(chain.url, 'eth_signTypedData_v4', [OTHER.address, JSON.stringify(payload)]);
    assert.equal(s1.result, expected);
    const s2 = await call(chain.url, 'eth_signTypedData_v4', [OTHER.address.toLowerCase(), payload]);
    assert.equal(s2.result, expected);
    // An unused extra type does not confuse the primary type.
    const extra = { ...payload, types: { ...payload.types, Unused: [{ name: 'x', type: 'uint8' }] } };
    assert.equal((await call(chain.url, 'eth_signTypedData_v4', [OTHER.address, extra])).result, expected);
    const bad = await call(chain.url, 'eth_signTypedData_v4', [OTHER.address, '{not json']);
    assert.equal(bad.error?.code, -32602);
    assert.equal((await call(chain.url, 'eth_signTypedData_v4', [STRANGER, payload])).error?.code, -32000);

    const ps = await call(chain.url, 'personal_sign', [ethers.hexlify(ethers.toUtf8Bytes('hello')), OTHER.address]);
    assert.equal(ethers.verifyMessage('hello', ps.result), OTHER.address);
  });

  test('item 16: ethers JsonRpcSigner (provider.getSigner()) sends, calls contracts and signs', async () => {
    const signer = await provider.getSigner(); // account (0), from eth_accounts
    assert.equal(signer.address, USER.address);
    assert.deepEqual((await provider.listAccounts()).map((s) => s.address), ACCOUNTS.map((a) => a.address));

    const before = await provider.getBalance(STRANGER);
    const receipt = await (await signer.sendTransaction({ to: STRANGER, value: 7n })).wait();
    assert.equal(receipt.status, 1);
    assert.equal(receipt.from, USER.address);
    assert.equal(await provider.getBalance(STRANGER), before + 7n);

    const memsync = new ethers.Contract(MS, IMemSync.abi, signer);
    const created = await (await memsync.createMemory(salt(17), ethers.ZeroHash, envelope(1))).wait();
    assert.equal(created.status, 1);
    assert.equal((await memsync.getHead(assetIdOf(USER.address, salt(17)))).owner, USER.address);
    // An EIP-2930 transaction through the signer.
    const t1 = await (await signer.sendTransaction({ type: 1, to: STRANGER, value: 1n, accessList: [{ address: MS, storageKeys: [] }] })).wait();
    assert.equal(t1.type, 1);
    assert.equal(t1.status, 1);

    const domain = { name: 'MemSync', version: '1', chainId: CHAIN_ID, verifyingContract: MS };
    const message = {
      assetId: assetIdOf(USER.address, salt(17)), expectedVersion: 1n, keyEpoch: 1n, ciphertextHash: ethers.keccak256('0x02'),
      signer: USER.address, nonce: 0n, deadline: 99999999999n,
    };
    const types = { AppendVersion: TYPES.AppendVersion };
    const sig = await signer.signTypedData(domain, types, message);
    assert.equal(sig, await new ethers.Wallet(USER.privateKey).signTypedData(domain, types, message));
    assert.equal(ethers.verifyTypedData(domain, types, message, sig), USER.address);
    assert.equal(ethers.verifyMessage('memsync', await signer.signMessage('memsync')), USER.address);
  });

  test('item 16: cast send --unlocked and cast access-list',
    { skip: CAST === undefined && 'no cast binary for this platform (@foundry-rs/cast-linux-amd64 only)' }, async () => {
    const rpcUrl = ['--rpc-url', chain.url];
    const before = await provider.getBalance(STRANGER);
    const sent = await cast(['send', '--unlocked', '--from', OTHER.address, STRANGER, '--value', '3', '--json', ...rpcUrl]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(JSON.parse(sent.stdout).status, '0x1');
    assert.equal(await provider.getBalance(STRANGER), before + 3n);
    const al = await cast(['access-list', MS, 'getHead(bytes32)', assetIdOf(USER.address, salt(11)), ...rpcUrl]);
    assert.equal(al.code, 0, al.stderr);
    assert.match(al.stdout, /gas used: [0-9]+/);
  });
});

describe('dev chain --rpc-gas-cap (issue 14, item 13)', () => {
  test('a configured cap clamps eth_call and bounds eth_estimateGas; a bad value is a usage error', async () => {
    const dataDir = tempDir('gascap');
    try {
      assert.equal((await startFails(dataDir, ['--rpc-gas-cap', '100'])).code, 1);
      const chain = await startChain(dataDir, ['--rpc-gas-cap', '100000']);
      try {
        assert.match(chain.stdout(), /rpc gas cap\s+100000/);
        const left = BigInt((await call(chain.url, 'eth_call', [{ data: GASLEFT, gas: ethers.toQuantity(1n << 40n) }])).result);
        assert.ok(left < 100_000n && left > 40_000n, `gasleft ${left}`);
        const r = await call(chain.url, 'eth_estimateGas', [{ data: '0xfe', gas: ethers.toQuantity(1n << 40n) }]);
        assert.match(r.error.message, /gas required exceeds allowance \(100000\)/);
        // A createMemory with a 1 KiB envelope needs about 121,000 gas; one
        // with 4 KiB more than 100,000 before it even starts (its calldata).
        const iface = new ethers.Interface(compileContracts().IMemSync.abi);
        const data = iface.encodeFunctionData('createMemory', [salt(1), ethers.ZeroHash, envelope(1, 1024)]);
        const big = await call(chain.url, 'eth_estimateGas', [{ from: USER.address, to: MS, data }]);
        assert.match(big.error?.message ?? '', /gas required exceeds allowance \(100000\)/, JSON.stringify(big));
        const huge = iface.encodeFunctionData('createMemory', [salt(1), ethers.ZeroHash, envelope(1, 4096)]);
        const intrinsic = await call(chain.url, 'eth_estimateGas', [{ from: USER.address, to: MS, data: huge }]);
        assert.match(intrinsic.error?.message ?? '', /gas required exceeds allowance \(100000\): intrinsic gas too low/);
        // Transactions are not capped by it: the same createMemory is mined with its own gas limit.
        const receipt = (await call(chain.url, 'eth_sendTransaction', [{ from: USER.address, to: MS, data, gas: '0x30d40' }]));
        assert.match(receipt.result ?? '', /^0x[0-9a-f]{64}$/, JSON.stringify(receipt));
        const rc = (await call(chain.url, 'eth_getTransactionReceipt', [receipt.result])).result;
        assert.equal(rc.status, '0x1');
        assert.ok(BigInt(rc.gasUsed) > 100_000n);
      } finally {
        await chain.stop();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
