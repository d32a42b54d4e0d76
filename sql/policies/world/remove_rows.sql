-- The HTTP transport's fixture rows of one table, removed again (the world it committed for the
-- Storage API to see, or one a killed run left).
DELETE FROM :"table" WHERE :"column" = ANY (%(ids)s::uuid[])
