namespace SharpSeek.Tasks;

/// <summary>Which part of the problem space an item comes from; a problem (its canonical form) belongs to exactly one.</summary>
public enum TaskSplit
{
    Train,
    Validation,
    Test,
}
