namespace EdgeStream;

/// <summary>What kind of problem a <see cref="SqlException"/> reports.</summary>
public enum SqlErrorCode
{
    /// <summary>The text is not valid SQL: <see cref="SqlException.Expected"/> says what could have come instead.</summary>
    Syntax = 1,

    /// <summary>The statement names a stream or table that is not declared.</summary>
    UnknownStream,

    /// <summary>A field is not a column of the stream(s) in scope.</summary>
    UnknownField,

    /// <summary>An unqualified field is a column of more than one joined stream.</summary>
    AmbiguousField,

    /// <summary>A function name is not registered.</summary>
    UnknownFunction,

    /// <summary>A function is called with the wrong number of arguments.</summary>
    WrongArity,

    /// <summary>A function, clause or construct is used where it is not allowed (an aggregate in WHERE, say).</summary>
    InvalidUse,

    /// <summary>An operand or argument has a type the operation cannot take.</summary>
    TypeMismatch,

    /// <summary>An argument, option or literal has a value outside what is accepted.</summary>
    InvalidValue,

    /// <summary>A name is declared twice (a column, a stream alias, a select alias).</summary>
    Duplicate,
}
