// A self-signed EC certificate (signed with SHA-256) for specs that need a server certificate
// without TLS, e.g. SCRAM channel binding over the fake transport. Its tls-server-end-point
// hash is SHA-256 of its DER bytes.

/** The certificate, PEM. */
export const ecSha256CertificatePem = `
-----BEGIN CERTIFICATE-----
MIIBlDCCATmgAwIBAgIUElUZaU1OxKIBe2k/YiNBzGh4xvYwCgYIKoZIzj0EAwIw
HjEcMBoGA1UEAwwTcnhwZy10ZXN0LWVjLXNoYTI1NjAgFw0yNjExMjYxMDIwMTBa
GA8yMTI2MTEwMjEwMjAxMFowHjEcMBoGA1UEAwwTcnhwZy10ZXN0LWVjLXNoYTI1
NjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABO7Ltk5mvaST+grKWZlBJ+qwzTu7
eOdvc/bE1fDlLeuL/x5kdvdk1KbG6aoEMlb7uI97m4toBpEuGy/bMhc72syjUzBR
MB0GA1UdDgQWBBTmPnpaaVcz1uJc6/9HQ+3cI5RScjAfBgNVHSMEGDAWgBTmPnpa
aVcz1uJc6/9HQ+3cI5RScjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kA
MEYCIQDItmG5UGVvonKGTkez26G0I9u4kcfbNHBjWIdQ80YqfwIhAK5isS2RfRco
ssccKyBQxe4VbZHdcs+zngcxUUKGxZ/s
-----END CERTIFICATE-----
`;
