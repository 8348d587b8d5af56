//! The development CA behind `fedlink federation init`: a self-signed CA and the TLS
//! certificates of each member, made with rcgen (ECDSA P-256). Real deployments use
//! certificates from their own CA and only list fingerprints in the federation file
//! (deploy/README.md).

use anyhow::{Context as _, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

/// A CA that can issue member certificates.
pub struct DevCa {
    /// The CA certificate, PEM.
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
    /// The CA key, PEM (kept so `init` can write it next to the CA for later re-issuing).
    pub key_pem: String,
}

/// A member's TLS certificate and key.
pub struct IssuedCert {
    /// Certificate, PEM.
    pub cert_pem: String,
    /// Certificate, DER (its SHA-256 is the fingerprint the federation file lists).
    pub cert_der: Vec<u8>,
    /// Private key, PEM.
    pub key_pem: String,
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "fedlink development CA");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

impl DevCa {
    /// A new CA named `common_name`.
    pub fn generate(common_name: &str) -> Result<Self> {
        let key = KeyPair::generate().context("generating the CA key")?;
        let params = ca_params(common_name);
        let cert = params.self_signed(&key).context("self-signing the CA certificate")?;
        let key_pem = key.serialize_pem();
        Ok(Self { cert_pem: cert.pem(), issuer: Issuer::new(params, key), key_pem })
    }

    /// Reloads a CA written by [`DevCa::generate`] (same common name, its key).
    pub fn load(common_name: &str, cert_pem: &str, key_pem: &str) -> Result<Self> {
        let key = KeyPair::from_pem(key_pem).context("reading the CA key")?;
        Ok(Self {
            cert_pem: cert_pem.to_string(),
            issuer: Issuer::new(ca_params(common_name), key),
            key_pem: key_pem.to_string(),
        })
    }

    /// Issues a certificate for `name`, valid for server and client authentication, with the
    /// given DNS names and IP addresses as subject alternative names.
    pub fn issue(&self, name: &str, alt_names: &[String]) -> Result<IssuedCert> {
        let key = KeyPair::generate().context("generating a member key")?;
        let mut params = CertificateParams::new(alt_names.to_vec())
            .with_context(|| format!("subject alternative names for {name}"))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.extended_key_usages =
            vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = params
            .signed_by(&key, &self.issuer)
            .with_context(|| format!("signing the certificate for {name}"))?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// The SHA-256 fingerprint of a certificate's DER, lowercase hex.
pub fn fingerprint(der: &[u8]) -> String {
    fedlink_node::request::cert_fingerprint(der)
}

/// The DER of the first certificate in a PEM file.
pub fn first_cert_der(pem: &str) -> Result<Vec<u8>> {
    use base64::Engine as _;
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .map(str::trim)
        .collect();
    anyhow::ensure!(!body.is_empty(), "no CERTIFICATE block in the PEM text");
    base64::engine::general_purpose::STANDARD.decode(body).context("PEM certificate is not base64")
}
