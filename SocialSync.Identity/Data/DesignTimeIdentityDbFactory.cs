using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace SocialSync.Identity.Data;

/// <summary>For <c>dotnet ef migrations add</c>: the model only, never a connection (the tool does not open one to add a migration).</summary>
public sealed class DesignTimeIdentityDbFactory : IDesignTimeDbContextFactory<IdentityDb>
{
    public IdentityDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<IdentityDb>().UseNpgsql("Host=localhost;Database=identitydb").Options);
}
