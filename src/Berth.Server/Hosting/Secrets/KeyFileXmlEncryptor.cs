using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace Berth.Server.Hosting.Secrets;

/// <summary>
/// Encrypts a data-protection key's secret part with the <see cref="KeyFile"/> before it is stored:
/// <c>&lt;encryptedKey keyFile="&lt;id&gt;"&gt;base64(nonce | ciphertext | tag)&lt;/encryptedKey&gt;</c>.
/// </summary>
internal sealed class KeyFileXmlEncryptor(KeyFile keyFile) : IXmlEncryptor
{
    public static readonly XNamespace Namespace = "urn:berth:data-protection";
    public static readonly XName ElementName = Namespace + "encryptedKey";
    public const string KeyFileAttribute = "keyFile";

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var element = new XElement(ElementName,
            new XAttribute(KeyFileAttribute, keyFile.Id ?? throw new InvalidOperationException("The key file is not loaded.")),
            new XAttribute("algorithm", "AES-256-GCM"),
            Convert.ToBase64String(keyFile.Encrypt(plaintext)));
        return new EncryptedXmlInfo(element, typeof(KeyFileXmlDecryptor));
    }
}
