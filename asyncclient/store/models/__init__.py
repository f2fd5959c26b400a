"""LoggedModels and the Model Registry in the SQL store: search grammars, row loading, store mixins."""
