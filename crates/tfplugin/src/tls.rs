//! AutoMTLS, as go-plugin does it: Terraform puts its client certificate in
//! `PLUGIN_CLIENT_CERT`; we make a fresh self-signed server certificate, send
//! it in the handshake line, and accept only connections that present
//! exactly Terraform's certificate.
//!
//! Terraform's certificate is ECDSA P-521 and flagged as a CA. ring cannot
//! verify P-521, and the standard WebPKI client verifier refuses a CA
//! certificate used as an end entity; so signatures are verified with
//! aws-lc-rs's algorithms and [`PinnedClientCert`] compares the certificate
//! byte for byte and still checks the handshake signature.
//!
//! Everything that needs random numbers (our key, the certificate's
//! signature, the handshake's key exchange and randoms) uses ring, which
//! reads the kernel's `getrandom`. aws-lc-rs seeds its own generator the
//! first time it is asked for a random number by sampling CPU timing jitter,
//! which took 22 ms (quiet machine) to 75 ms (median, loaded 2-core machine)
//! of every provider's start-up (bench/RESULTS.md); verifying a signature
//! asks it for none.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};

/// The server's certificate and private key, made fresh for each process.
pub struct ServerIdentity {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl ServerIdentity {
    /// A self-signed P-256 certificate for `localhost`, usable both as the
    /// server's certificate and as the only CA in Terraform's pool (go-plugin's
    /// own template, with a key that is quick to make).
    pub fn generate() -> Result<ServerIdentity, String> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
            KeyUsagePurpose,
        };
        let started = std::time::Instant::now();
        let key = RingP256Key::generate()?;
        let key_made = started.elapsed();
        let mut params = CertificateParams::new(vec!["localhost".to_string()])
            .map_err(|e| format!("invalid certificate name: {e}"))?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Terraform plugin AutoMTLS");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyAgreement,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::seconds(30);
        params.not_after = now + time::Duration::days(365);
        let cert = params
            .self_signed(&key)
            .map_err(|e| format!("cannot sign the server certificate: {e}"))?;
        log::debug!(
            "AutoMTLS: server key made in {} µs, certificate signed in {} µs",
            key_made.as_micros(),
            (started.elapsed() - key_made).as_micros()
        );
        Ok(ServerIdentity {
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.pkcs8),
        })
    }

    pub fn cert_der(&self) -> &[u8] {
        self.cert.as_ref()
    }
}

/// A P-256 key made and used with ring, so that rcgen signs our certificate
/// without touching aws-lc-rs's random number generator.
struct RingP256Key {
    pair: ring::signature::EcdsaKeyPair,
    pkcs8: Vec<u8>,
    rng: ring::rand::SystemRandom,
}

impl RingP256Key {
    fn generate() -> Result<RingP256Key, String> {
        use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING as ALG};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ALG, &rng)
            .map_err(|e| format!("cannot generate the server key: {e}"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ALG, pkcs8.as_ref(), &rng)
            .map_err(|e| format!("cannot load the server key: {e}"))?;
        Ok(RingP256Key {
            pair,
            pkcs8: pkcs8.as_ref().to_vec(),
            rng,
        })
    }
}

impl rcgen::PublicKeyData for RingP256Key {
    fn der_bytes(&self) -> &[u8] {
        use ring::signature::KeyPair as _;
        self.pair.public_key().as_ref()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for RingP256Key {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.pair
            .sign(&self.rng, msg)
            .map(|signature| signature.as_ref().to_vec())
            .map_err(|_| rcgen::Error::RingUnspecified)
    }
}

/// ring's provider (key exchange, ciphers, randoms, our key) with aws-lc-rs's
/// signature verification, the only one that knows P-521.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        signature_verification_algorithms: rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms,
        ..rustls::crypto::ring::default_provider()
    })
}

/// The TLS configuration for AutoMTLS: our identity, Terraform's pinned
/// client certificate (PEM, as found in `PLUGIN_CLIENT_CERT`), ALPN `h2`
/// (newer gRPC clients refuse TLS without it).
pub fn server_config(
    identity: &ServerIdentity,
    client_cert_pem: &str,
) -> Result<Arc<ServerConfig>, String> {
    let started = std::time::Instant::now();
    let provider = provider();
    let provider_made = started.elapsed();
    let verifier =
        PinnedClientCert::from_pem(client_cert_pem, provider.signature_verification_algorithms)?;
    let pem_parsed = started.elapsed();
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![identity.cert.clone()],
            PrivateKeyDer::Pkcs8(identity.key.clone_key()),
        )
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    log::debug!(
        "AutoMTLS: crypto provider {} µs, PLUGIN_CLIENT_CERT parsed in {} µs, TLS configuration \
         built in {} µs",
        provider_made.as_micros(),
        (pem_parsed - provider_made).as_micros(),
        (started.elapsed() - pem_parsed).as_micros()
    );
    Ok(Arc::new(config))
}

/// Accepts exactly one client certificate, byte for byte.
#[derive(Debug)]
pub struct PinnedClientCert {
    expected: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedClientCert {
    pub fn from_pem(
        pem: &str,
        algorithms: WebPkiSupportedAlgorithms,
    ) -> Result<PinnedClientCert, String> {
        let expected = CertificateDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| format!("PLUGIN_CLIENT_CERT does not hold a PEM certificate: {e}"))?;
        Ok(PinnedClientCert {
            expected,
            algorithms,
        })
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // No hint: Go's client then offers its one certificate.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A certificate like Terraform's: ECDSA P-521 / SHA-512, flagged CA.
    fn terraform_like_client() -> (String, PrivateKeyDer<'static>, CertificateDer<'static>) {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        (
            cert.pem(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            cert.der().clone(),
        )
    }

    /// The test client trusts exactly our server certificate, as Terraform does.
    #[derive(Debug)]
    struct TrustExactly(CertificateDer<'static>, WebPkiSupportedAlgorithms);

    impl ServerCertVerifier for TrustExactly {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            assert_eq!(end_entity.as_ref(), self.0.as_ref());
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(m, c, d, &self.1)
        }
        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(m, c, d, &self.1)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.1.supported_schemes()
        }
    }

    /// Runs one TLS handshake plus a byte of echo; `Ok` when both sides agree.
    async fn connect(
        server: Arc<ServerConfig>,
        server_cert: CertificateDer<'static>,
        client_identity: Option<(CertificateDer<'static>, PrivateKeyDer<'static>)>,
    ) -> Result<Vec<u8>, String> {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let acceptor = tokio_rustls::TlsAcceptor::from(server);
        let server_task = tokio::spawn(async move {
            let mut stream = acceptor
                .accept(server_io)
                .await
                .map_err(|e| e.to_string())?;
            let alpn = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
            let mut byte = [0u8; 1];
            stream
                .read_exact(&mut byte)
                .await
                .map_err(|e| e.to_string())?;
            stream.write_all(&byte).await.map_err(|e| e.to_string())?;
            stream.flush().await.map_err(|e| e.to_string())?;
            Ok::<_, String>(alpn.unwrap_or_default())
        });
        // The client signs with a P-521 key, as Terraform does: ring cannot.
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(TrustExactly(
                server_cert,
                provider.signature_verification_algorithms,
            )));
        let mut config = match client_identity {
            Some((cert, key)) => builder.with_client_auth_cert(vec![cert], key).unwrap(),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"h2".to_vec()];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let client = async {
            let mut stream = connector
                .connect(ServerName::try_from("localhost").unwrap(), client_io)
                .await
                .map_err(|e| e.to_string())?;
            stream.write_all(b"x").await.map_err(|e| e.to_string())?;
            let mut byte = [0u8; 1];
            stream
                .read_exact(&mut byte)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(())
        };
        let client_result = client.await;
        let server_result = server_task.await.map_err(|e| e.to_string())?;
        client_result?;
        server_result
    }

    #[tokio::test]
    async fn terraforms_p521_ca_certificate_gets_in_with_h2() {
        let identity = ServerIdentity::generate().unwrap();
        let (pem, key, der) = terraform_like_client();
        let config = server_config(&identity, &pem).unwrap();
        let alpn = connect(config, identity.cert.clone(), Some((der, key)))
            .await
            .unwrap();
        assert_eq!(alpn, b"h2");
    }

    #[tokio::test]
    async fn another_certificate_is_refused() {
        let identity = ServerIdentity::generate().unwrap();
        let (pem, _, _) = terraform_like_client();
        let (_, other_key, other_der) = terraform_like_client();
        let config = server_config(&identity, &pem).unwrap();
        let result = connect(config, identity.cert.clone(), Some((other_der, other_key))).await;
        assert!(
            result.is_err(),
            "a different client certificate must be refused"
        );
    }

    #[tokio::test]
    async fn a_client_without_certificate_is_refused() {
        let identity = ServerIdentity::generate().unwrap();
        let (pem, _, _) = terraform_like_client();
        let config = server_config(&identity, &pem).unwrap();
        let result = connect(config, identity.cert.clone(), None).await;
        assert!(
            result.is_err(),
            "a client without certificate must be refused"
        );
    }

    #[test]
    fn garbage_in_plugin_client_cert_is_a_clear_error() {
        let identity = ServerIdentity::generate().unwrap();
        let err = server_config(&identity, "not a certificate").unwrap_err();
        assert!(err.contains("PLUGIN_CLIENT_CERT"), "{err}");
    }
}
