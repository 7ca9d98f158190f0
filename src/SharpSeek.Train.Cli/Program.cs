using SharpSeek.Cli;

return CommandRunner.Run(TrainCommand.CreateRoot(), args);
