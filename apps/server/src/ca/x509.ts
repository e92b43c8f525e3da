// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata
// API before the library is evaluated: this import must stay first. Every CA module imports
// the library through this file so the order cannot be got wrong elsewhere.
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'

/**
 * A WebCrypto key, as @peculiar/x509 takes it for signing. Named through the library rather
 * than as the global `CryptoKey`: the @types/node the workspace pins (24) declares `CryptoKey`
 * only as a value, and the global type comes with the newer @types/node some dependencies
 * bring, so whether a build could name it depended on the dependency graph.
 */
export type WebCryptoKey = x509.X509CertificateCreateWithKeyParams['signingKey']

// Node's WebCrypto (globalThis.crypto), set explicitly rather than left to the library's
// environment detection. The CA modules use the same global, so key types always agree.
x509.cryptoProvider.set(crypto)

export { x509 }
