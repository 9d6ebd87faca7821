using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Server.Hosting.Secrets;

/// <summary>
/// Decrypts what <see cref="KeyFileXmlEncryptor"/> wrote. Public with an <see cref="IServiceProvider"/> constructor because
/// the data-protection system creates it by the type name stored with each key.
/// </summary>
public sealed class KeyFileXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var keyFile = services.GetRequiredService<KeyFile>();
        var id = encryptedElement.Attribute(KeyFileXmlEncryptor.KeyFileAttribute)?.Value;
        if (!keyFile.IsLoaded)
        {
            throw new CryptographicException($"This data-protection key is encrypted with key file {id}, and this server has no key file ({keyFile.Description} is missing).");
        }

        if (id != keyFile.Id)
        {
            throw new CryptographicException($"This data-protection key is encrypted with key file {id}, but this server's key file {keyFile.Description} is {keyFile.Id}.");
        }

        var plaintext = keyFile.Decrypt(Convert.FromBase64String(encryptedElement.Value));
        return XElement.Parse(Encoding.UTF8.GetString(plaintext));
    }
}
