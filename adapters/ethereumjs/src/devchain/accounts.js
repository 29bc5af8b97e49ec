// Dev accounts: derived from a public test mnemonic, the one Hardhat and
// Anvil use, so that their addresses and keys are the familiar ones. These
// keys are public; never send real value to them.
import { ethers } from 'ethers';

export const DEV_MNEMONIC = 'test test test test test test test test test test test junk';
export const DEV_PATH = "m/44'/60'/0'/0";
/** 10,000 ether each, as Anvil funds its dev accounts. */
export const DEV_BALANCE = 10_000n * 10n ** 18n;

/**
 * @param {number} count
 * @returns {{address: string, privateKey: string}[]} accounts m/44'/60'/0'/0/0 .. count-1
 */
export function devAccounts(count, mnemonic = DEV_MNEMONIC) {
  const root = ethers.HDNodeWallet.fromPhrase(mnemonic, undefined, DEV_PATH);
  const out = [];
  for (let i = 0; i < count; i++) {
    const w = root.deriveChild(i);
    out.push({ address: w.address, privateKey: w.privateKey });
  }
  return out;
}
