using SharpSeek.Cli;

return CliApp.Run(args);
