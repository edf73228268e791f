using SocialSync.GraphApiEmulator;

var app = EmulatorApp.Build(args);
app.Run();
