using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EdgeStream.TestServers;

/// <summary>
/// A certificate authority made on the spot for TLS tests: a self-signed CA (ECDSA P-256) that issues server and
/// client certificates, each with its private key. Nothing is written to a certificate store; <see cref="WritePem"/>
/// writes PEM files for servers such as Mosquitto, which read them from disk.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private static readonly DateTimeOffset NotBefore = DateTimeOffset.UtcNow.AddDays(-1);

    private TestCertificateAuthority(X509Certificate2 certificate) => Certificate = certificate;

    /// <summary>The CA's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Creates a self-signed CA named <paramref name="name"/>, valid from yesterday for 30 days.</summary>
    public static TestCertificateAuthority Create(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={name}, O=EdgeStream tests"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return new TestCertificateAuthority(request.CreateSelfSigned(NotBefore, NotBefore.AddDays(30)));
    }

    /// <summary>A server certificate for the DNS names and IP addresses given (subject alternative names), with its key.</summary>
    public X509Certificate2 IssueServerCertificate(IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses)
    {
        var names = new SubjectAlternativeNameBuilder();
        foreach (var dnsName in dnsNames)
        {
            names.AddDnsName(dnsName);
        }

        foreach (var address in addresses)
        {
            names.AddIpAddress(address);
        }

        return Issue("CN=localhost, O=EdgeStream tests", "1.3.6.1.5.5.7.3.1", names.Build());
    }

    /// <summary>A client certificate (TLS client authentication) whose subject is <c>CN=<paramref name="commonName"/></c>, with its key.</summary>
    public X509Certificate2 IssueClientCertificate(string commonName) => Issue($"CN={commonName}, O=EdgeStream tests", "1.3.6.1.5.5.7.3.2", null);

    /// <summary>
    /// Writes <paramref name="certificate"/> as PEM to <paramref name="certificatePath"/> and, when
    /// <paramref name="keyPath"/> is given, its private key as unencrypted PKCS#8 PEM there.
    /// </summary>
    public static void WritePem(X509Certificate2 certificate, string certificatePath, string? keyPath = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        if (keyPath is not null)
        {
            using var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("the certificate has no ECDSA private key");
            File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        }
    }

    public void Dispose() => Certificate.Dispose();

    private X509Certificate2 Issue(string subject, string usage, X509Extension? alternativeNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(subject), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        if (alternativeNames is not null)
        {
            request.CertificateExtensions.Add(alternativeNames);
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(Certificate, NotBefore.AddHours(1), NotBefore.AddDays(29), serial);
        return issued.CopyWithPrivateKey(key);
    }
}
